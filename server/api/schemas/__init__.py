"""The marshmallow schemas of the API (issue 14): request bodies and query strings that
flask-smorest validates, answers it shapes, and from which it writes the OpenAPI document.
``common`` holds the shared fields and the error body; each API area has its module."""
