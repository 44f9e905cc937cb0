# The contrib hook copies the metadata of "webrtcvad", which the webrtcvad-wheels build
# (the one cxfield installs) does not have; webrtcvad itself copes without any.
from PyInstaller.utils.hooks import copy_metadata

try:
    datas = copy_metadata("webrtcvad-wheels")
except Exception:  # another build of webrtcvad
    datas = []
