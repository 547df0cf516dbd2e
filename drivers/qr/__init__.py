"""QR codes at the Drive-Thru: camera frames and scanner lines in, decoded codes out, once.

- :mod:`.decoders`: the :class:`Decoder` interface, zxing-cpp (default) and pyzbar;
- :mod:`.sources`: :class:`FrameSource` (opencv camera, stream or file) and
  :class:`ScannerReader` (serial or keyboard-wedge barcode scanner);
- :mod:`.dedupe`: :class:`Deduplicator`, one report per appearance of a code;
- :mod:`.simulator`: a simulated camera; :mod:`.frames` generated camera frames (drawn by
  :mod:`.scene`), :mod:`.video` video files.

See ``drivers/qr/README.md``.
"""
from .decoders import DECODERS, DEFAULT_DECODER, Decoded, Decoder, PyzbarDecoder, ZxingDecoder, decoder_by_name
from .dedupe import Deduplicator
from .sources import EndOfStream, FrameSource, ScannerReader, SourceState, SourceStatus

__all__ = [
    "DECODERS", "DEFAULT_DECODER", "Decoded", "Decoder", "Deduplicator", "EndOfStream", "FrameSource",
    "PyzbarDecoder", "ScannerReader", "SourceState", "SourceStatus", "ZxingDecoder", "decoder_by_name",
]
