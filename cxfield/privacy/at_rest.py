"""The streamed AES-256-GCM container lives in :mod:`cxfield.audio.at_rest` (the audio
layer reads and writes recordings with it); this name stays for its older callers."""

from cxfield.audio.at_rest import *  # noqa: F403
from cxfield.audio.at_rest import (  # noqa: F401 - the private helpers tests use
    _FLAG_DATA,
    _FLAG_END,
    _RECORD,
    _aad,
    _file_key,
    _nonce,
)
