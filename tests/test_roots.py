"""The server offers only the folders and files under its configured roots, and says nothing about the rest."""

import pytest

from skipsnn_core import roots
from skipsnn_core.roots import NOT_OFFERED, NOT_OFFERED_FILE, NotOffered, nmnist_folders, offered_checkpoint, offered_folder


@pytest.fixture
def root(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "nmnist").mkdir(parents=True)
    (data / "nmnist" / "labels.csv").write_text("filename,label\n")
    (data / "gesture" / "deep" / "tonic" / "NMNIST" / "Train").mkdir(parents=True)
    (data / "gesture" / "deep" / "tonic" / "NMNIST" / "Test").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv(roots.DATA_ROOTS_ENV, str(data))
    monkeypatch.setenv(roots.MODELS_ENV, str(models))
    return tmp_path


def test_folders_inside_the_roots_are_offered(root):
    assert offered_folder(str(root / "data" / "nmnist")) == (root / "data" / "nmnist").resolve()
    assert offered_folder("nmnist") == (root / "data" / "nmnist").resolve(), "relative to a root"
    assert nmnist_folders() == {"data/nmnist": (root / "data" / "nmnist").resolve(),
                                "data/gesture/deep/tonic": (root / "data" / "gesture" / "deep" / "tonic").resolve()}


@pytest.mark.parametrize("text", ["/", "/root", "/etc", "../secret", "nmnist/../../secret", "/no/such/folder", "", "nmnist\x00x",
                                  "escape"])
def test_everything_else_gets_the_same_message(root, text):
    (root / "data" / "escape").symlink_to(root / "secret")  # a link inside a root that leads out of it
    with pytest.raises(NotOffered) as err:
        offered_folder(text)
    assert str(err.value) == NOT_OFFERED, "one fixed message: whether the folder exists is not told"


def test_checkpoints_only_from_assets_and_the_models_folder(root):
    (root / "models" / "mine.pt").write_bytes(b"x")
    (root / "secret" / "theirs.pt").write_bytes(b"x")
    (root / "models" / "link.pt").symlink_to(root / "secret" / "theirs.pt")
    assert offered_checkpoint("mine.pt") == (root / "models" / "mine.pt").resolve()
    assert offered_checkpoint("digits_skipsnn.pt").name == "digits_skipsnn.pt", "shipped ones by name"
    for text in (str(root / "secret" / "theirs.pt"), "link.pt", "../secret/theirs.pt", "missing.pt", "/etc/passwd", ""):
        with pytest.raises(NotOffered, match=f"^{NOT_OFFERED_FILE}$"):
            offered_checkpoint(text)
    assert set(roots.offered_checkpoints()) >= {"digits_skipsnn", "nmnist_snn", "mine"}
