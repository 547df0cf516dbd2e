"""The KTP-el activation counter (issue 5): cards bound at print (:mod:`.cards`),
activation sessions (:mod:`.sessions`), texts and views (:mod:`.texts`), the managers'
figures (:mod:`.report`). Import the submodules directly."""
