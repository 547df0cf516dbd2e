"""Test-only helpers that are not part of the installed packages (tests and bench/ import
them with the repository root on ``sys.path``):

- :mod:`.pcsc_stack`: a private ``pcscd`` with vsmartcard ``vpcd`` readers — TEST MACHINES
  ONLY (vpcd listens on all network interfaces);
- :mod:`.vicc`: a virtual contactless card for vpcd, in its own process, with insert /
  remove / pull-mid-read on demand.
"""
