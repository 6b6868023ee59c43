import gzip
from pathlib import Path

import pytest
import torch

from coursekit import data
from coursekit.data import (
    CorruptFileError,
    DatasetNotFoundError,
    find_fashion_mnist,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
    load_fashion_mnist_classes,
    load_fashion_mnist_validation,
    read_fashion_mnist,
)

NAMES = list(data.FILES)


def link_copy(source: Path, target: Path) -> Path:
    """A folder that holds the dataset as symbolic links (no 30 MB copy per test)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        src = data.file_in(source, name)
        (target / src.name).symlink_to(src)
    return target


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No data anywhere: empty cache, no $COURSEKIT_DATA, no system copy, no network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setattr(data, "SYSTEM_DIR", tmp_path / "system")
    data.forget_loaded_data()

    def offline(target, timeout=None):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data, "download_fashion_mnist", offline)
    return tmp_path


# -- discovery -------------------------------------------------------------------


def test_no_data_and_no_network_explains_every_way_out(isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        find_fashion_mnist()
    message = str(info.value)
    for place in [isolated / "cache" / "coursekit", isolated / "system"]:
        assert str(place) in message
    assert "name resolution" in message  # why the download failed
    assert "apt-get install dataset-fashion-mnist" in message
    assert "COURSEKIT_DATA=" in message
    assert "downloads" in message


def test_search_order_root_then_env_then_cache_then_system(isolated, fashion_root):
    system = link_copy(fashion_root, isolated / "system")
    assert find_fashion_mnist() == system
    cache = link_copy(fashion_root, isolated / "cache" / "coursekit")
    assert find_fashion_mnist() == cache
    env = link_copy(fashion_root, isolated / "env")
    isolated_env = pytest.MonkeyPatch()
    isolated_env.setenv(data.DATA_ENV, str(env))
    try:
        assert find_fashion_mnist() == env
        root = link_copy(fashion_root, isolated / "root")
        assert find_fashion_mnist(root) == root
    finally:
        isolated_env.undo()


def test_torchvision_layout_is_found(isolated, fashion_root):
    raw = link_copy(fashion_root, isolated / "tv" / "FashionMNIST" / "raw")
    assert find_fashion_mnist(isolated / "tv") == raw


def test_download_goes_to_the_user_cache(isolated, fashion_root, monkeypatch):
    calls = []

    def fake_download(target, timeout=None):
        calls.append(target)
        link_copy(fashion_root, target / "FashionMNIST" / "raw")

    monkeypatch.setattr(data, "download_fashion_mnist", fake_download)
    found = find_fashion_mnist()
    assert calls == [isolated / "cache" / "coursekit"]
    assert found == isolated / "cache" / "coursekit" / "FashionMNIST" / "raw"


def test_download_false_never_downloads(isolated, monkeypatch):
    monkeypatch.setattr(data, "download_fashion_mnist", lambda target, timeout=None: pytest.fail("must not download"))
    with pytest.raises(DatasetNotFoundError, match="downloading was turned off"):
        find_fashion_mnist(download=False)


def test_incomplete_folder_is_not_used(isolated, fashion_root):
    partial = isolated / "partial"
    partial.mkdir()
    src = data.file_in(fashion_root, NAMES[0])
    (partial / src.name).symlink_to(src)
    with pytest.raises(DatasetNotFoundError):
        find_fashion_mnist(partial)


# -- checksums -------------------------------------------------------------------


def test_altered_file_fails_its_checksum_and_is_named(isolated, fashion_root):
    folder = link_copy(fashion_root, isolated / "bad")
    victim = folder / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.open(data.file_in(fashion_root, "t10k-labels-idx1-ubyte"), "rb").read())
    content[100] = (content[100] + 1) % 10  # one label changed: still a valid IDX file
    victim.unlink()
    victim.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(CorruptFileError) as info:
        read_fashion_mnist("test", root=folder)
    assert str(victim) in str(info.value)
    assert "checksum" in str(info.value)


def test_truncated_gzip_is_named(isolated, fashion_root):
    folder = link_copy(fashion_root, isolated / "bad")
    victim = folder / "train-labels-idx1-ubyte.gz"
    truncated = data.file_in(fashion_root, "train-labels-idx1-ubyte").read_bytes()[:500]
    victim.unlink()
    victim.write_bytes(truncated)
    with pytest.raises(CorruptFileError, match=str(victim)):
        read_fashion_mnist("train", root=folder)


def test_uncompressed_files_are_accepted(isolated, fashion_root):
    folder = isolated / "plain"
    folder.mkdir()
    for name in NAMES:
        with gzip.open(data.file_in(fashion_root, name), "rb") as f:
            (folder / name).write_bytes(f.read())
    images, labels = read_fashion_mnist("test", root=folder)
    reference_images, reference_labels = read_fashion_mnist("test", root=fashion_root)
    assert torch.equal(images, reference_images) and torch.equal(labels, reference_labels)


def test_real_dataset_content(fashion_root):
    images, labels = read_fashion_mnist("train", root=fashion_root)
    assert images.shape == (60000, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (60000,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == [6000] * 10
    test_images, test_labels = read_fashion_mnist("test", root=fashion_root)
    assert test_images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test_labels).tolist() == [1000] * 10


# -- the loader ------------------------------------------------------------------


def test_loader_batches(fashion_root):
    train_iter, test_iter = load_data_fashion_mnist(256, root=fashion_root, device="cpu")
    assert len(train_iter) == 235 and len(test_iter) == 40
    batches = list(train_iter)
    X, y = batches[0]
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32
    assert y.shape == (256,) and y.dtype == torch.int64
    assert 0.0 <= X.min() and X.max() <= 1.0 and X.max() > 0.9
    assert batches[-1][0].shape[0] == 60000 - 234 * 256
    assert sum(len(b[1]) for b in batches) == 60000


def test_training_order_is_shuffled_per_epoch_and_reproducible(fashion_root):
    a, _ = load_data_fashion_mnist(64, root=fashion_root, device="cpu", n_train=640, seed=1)
    b, _ = load_data_fashion_mnist(64, root=fashion_root, device="cpu", n_train=640, seed=1)
    c, _ = load_data_fashion_mnist(64, root=fashion_root, device="cpu", n_train=640, seed=2)
    a1, a2 = torch.cat([y for _, y in a]), torch.cat([y for _, y in a])
    b1 = torch.cat([y for _, y in b])
    c1 = torch.cat([y for _, y in c])
    assert torch.equal(a1, b1)  # same seed, same order
    assert not torch.equal(a1, a2)  # the next epoch is reshuffled
    assert torch.equal(a1.sort().values, a2.sort().values)  # ... over the same images
    assert not torch.equal(a1, c1)  # another seed, another subset/order


def test_test_set_keeps_its_order(fashion_root):
    _, test_iter = load_data_fashion_mnist(100, root=fashion_root, device="cpu")
    first = torch.cat([y for _, y in test_iter])
    second = torch.cat([y for _, y in test_iter])
    _, reference = read_fashion_mnist("test", root=fashion_root)
    assert torch.equal(first, reference) and torch.equal(second, reference)


@pytest.mark.parametrize("resize, shape", [(96, (96, 96)), (224, (224, 224)), ((32, 48), (32, 48)), (28, (28, 28))])
def test_resize_happens_on_batches(fashion_root, resize, shape):
    train_iter, _ = load_data_fashion_mnist(8, resize=resize, root=fashion_root, device="cpu", n_train=16)
    X, _ = next(iter(train_iter))
    assert X.shape == (8, 1, *shape) and X.dtype == torch.float32
    assert -0.05 < X.min() and X.max() < 1.05  # bilinear + antialias stays close to [0, 1]


def test_subset_sizes_and_normalization(fashion_root):
    train_iter, test_iter = load_data_fashion_mnist(500, root=fashion_root, device="cpu", n_train=5000, n_test=1000,
                                                    normalize=True)
    assert train_iter.num_examples == 5000 and test_iter.num_examples == 1000
    X = torch.cat([X for X, _ in train_iter])
    assert abs(X.mean().item()) < 0.05 and abs(X.std().item() - 1) < 0.05


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, "256", True, 60001])
def test_nonsense_batch_size_says_the_valid_range(fashion_root, batch_size):
    with pytest.raises(ValueError, match=r"batch_size must be an int from 1 to 60,000"):
        load_data_fashion_mnist(batch_size, root=fashion_root)


@pytest.mark.parametrize("resize", [0, -28, 5000, (28,), (28, 0), "224", 2.5])
def test_nonsense_resize_says_the_valid_range(fashion_root, resize):
    with pytest.raises(ValueError, match=r"resize must be None, an int or a \(height, width\) pair of ints from 1 to 1024"):
        load_data_fashion_mnist(32, resize=resize, root=fashion_root)


@pytest.mark.parametrize("n_train", [0, 70000])
def test_nonsense_subset_size(fashion_root, n_train):
    with pytest.raises(ValueError, match="n_train must be an int from 1 to 60,000"):
        load_data_fashion_mnist(32, root=fashion_root, n_train=n_train)


def test_text_labels(fashion_root):
    assert get_fashion_mnist_labels([0, 9, torch.tensor(5)]) == ["t-shirt", "ankle boot", "sandal"]


def test_show_images_draws_a_titled_grid(fashion_root):
    from coursekit import show_images

    images, labels = read_fashion_mnist("test", root=fashion_root)
    axes = show_images(images[:6].squeeze(1), 2, 4, titles=get_fashion_mnist_labels(labels[:6]))
    assert len(axes) == 8
    assert [ax.get_title() for ax in axes[:6]] == get_fashion_mnist_labels(labels[:6])
    assert len(axes[0].images) == 1 and len(axes[7].images) == 0


# -- class subsets and validation splits ------------------------------------------


def test_class_subset_is_relabelled_and_complete(fashion_root):
    train_iter, test_iter = load_fashion_mnist_classes([5, 7, 9], 64, root=fashion_root, device="cpu")
    assert train_iter.class_names == ["sandal", "sneaker", "ankle boot"]
    assert train_iter.num_examples == 18_000 and test_iter.num_examples == 3_000  # 6,000 and 1,000 per class
    assert sorted(train_iter.labels.unique().tolist()) == [0, 1, 2]
    # the images are those of the original classes, in order
    images, labels = read_fashion_mnist("test", fashion_root)
    sneakers = images[labels == 7]
    assert torch.equal(test_iter.images[test_iter.labels == 1], sneakers)
    X, y = next(iter(test_iter))
    assert X.shape == (64, 1, 28, 28) and X.dtype == torch.float32 and y.max() <= 2


def test_class_subset_sizes_resize_and_seed(fashion_root):
    a, _ = load_fashion_mnist_classes([0, 1], 32, 32, n_train=100, n_test=50, root=fashion_root, device="cpu")
    b, _ = load_fashion_mnist_classes([0, 1], 32, 32, n_train=100, n_test=50, root=fashion_root, device="cpu")
    c, _ = load_fashion_mnist_classes([0, 1], 32, 32, n_train=100, n_test=50, root=fashion_root, device="cpu", seed=1)
    assert a.num_examples == 100 and torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)
    assert next(iter(a))[0].shape == (32, 1, 32, 32)


@pytest.mark.parametrize("classes", [[], [1, 1], [10], [0.5], [True]])
def test_class_subset_rejects_bad_classes(classes, fashion_root):
    with pytest.raises(ValueError, match="distinct ints from 0 to 9"):
        load_fashion_mnist_classes(classes, 64, root=fashion_root, device="cpu")


def test_class_subset_rejects_too_many_images(fashion_root):
    with pytest.raises(ValueError, match="n_train must be an int from 1 to 6,000"):
        load_fashion_mnist_classes([3], 64, n_train=6001, root=fashion_root, device="cpu")


def test_validation_split_is_disjoint_and_from_the_training_set(fashion_root):
    train_iter, valid_iter = load_fashion_mnist_validation(50, 1000, 300, root=fashion_root, device="cpu")
    assert (train_iter.num_examples, valid_iter.num_examples) == (1000, 300)
    images, _ = read_fashion_mnist("train", fashion_root)
    flat = images.flatten(1)
    order = torch.randperm(60_000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(train_iter.images.flatten(1), flat[order[:1000]])
    assert torch.equal(valid_iter.images.flatten(1), flat[order[1000:1300]])
    assert not valid_iter.shuffle and train_iter.shuffle
    with pytest.raises(ValueError, match="n_valid must be an int from 1 to 1,000"):
        load_fashion_mnist_validation(50, 59_000, 2_000, root=fashion_root, device="cpu")
    with pytest.raises(ValueError, match="n_valid must be an int from 1 to"):
        load_fashion_mnist_validation(50, 100, 0, root=fashion_root, device="cpu")


@pytest.mark.parametrize("how", ["root", "env"])
def test_a_folder_the_user_named_is_used_or_refused_never_skipped(isolated, fashion_root, monkeypatch, how):
    link_copy(fashion_root, isolated / "system")  # another copy exists, and must not be picked silently
    empty = isolated / "mine"
    empty.mkdir()
    if how == "env":
        monkeypatch.setenv(data.DATA_ENV, str(empty))
    downloads = []
    monkeypatch.setattr(data, "download_fashion_mnist", lambda target, timeout=None: downloads.append(target))
    with pytest.raises(DatasetNotFoundError) as info:
        find_fashion_mnist(root=empty if how == "root" else None)
    message = str(info.value)
    assert "not in the folder you asked for" in message and str(empty) in message
    assert str(isolated / "system") not in message
    assert ("drop root=" if how == "root" else "unset COURSEKIT_DATA") in message
    assert downloads == [empty]  # the download goes where the user asked


def test_a_data_folder_that_is_a_file_is_refused(isolated, monkeypatch):
    (isolated / "afile").write_text("x")
    monkeypatch.setenv(data.DATA_ENV, str(isolated / "afile"))
    with pytest.raises(DatasetNotFoundError, match="is a file, not a folder"):
        find_fashion_mnist()


def test_a_server_that_never_answers_times_out(tmp_path, monkeypatch):
    import socket

    from torchvision.datasets import FashionMNIST

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    monkeypatch.setattr(FashionMNIST, "mirrors", [f"http://127.0.0.1:{silent.getsockname()[1]}/"])
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setenv(data.TIMEOUT_ENV, "1")
    data.forget_loaded_data()
    try:
        with pytest.raises(DatasetNotFoundError, match=r"timed out \(no answer within 1 s; set COURSEKIT_DOWNLOAD_TIMEOUT"):
            find_fashion_mnist()
    finally:
        silent.close()
    assert socket.getdefaulttimeout() is None  # the process's default is left as it was


@pytest.mark.parametrize("value", ["abc", "0", "-5", "inf"])
def test_a_nonsense_download_timeout_is_refused(monkeypatch, value):
    monkeypatch.setenv(data.TIMEOUT_ENV, value)
    with pytest.raises(ValueError, match="COURSEKIT_DOWNLOAD_TIMEOUT=.* is not a number of seconds above 0"):
        data.download_timeout()


def test_an_unreadable_file_is_not_called_corrupt(fashion_root, monkeypatch):
    def denied(path, mode="rb"):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data.gzip, "open", denied)
    monkeypatch.setattr(data, "open", denied, raising=False)
    data.forget_loaded_data()
    try:
        with pytest.raises(PermissionError) as info:
            load_data_fashion_mnist(64, root=fashion_root)
    finally:
        data.forget_loaded_data()
    message = str(info.value)
    assert "cannot read" in message and "chmod a+r" in message and "elete" not in message
