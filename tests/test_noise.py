import pytest
import torch

from skipsnn_core.noise import TemporalNoise, embed_batch, noise_frames

W = H = 34


def decode(frame: torch.Tensor):
    """(p, y, x) of each event in one flattened frame."""
    ch = frame.nonzero().flatten()
    return [(int(c) // (H * W), int(c) % (H * W) // W, int(c) % W) for c in ch]


def test_reference_noise_frame_has_one_on_and_one_off_event_in_a_4x4_window(gen):
    frames = noise_frames(1, 400, 1, (W, H, 2), gen)[0]
    for frame in frames:
        events = decode(frame)
        assert sorted(p for p, _, _ in events) == [0, 1], "exactly one OFF and one ON event"
        ys, xs = [y for _, y, _ in events], [x for _, _, x in events]
        assert max(ys) - min(ys) <= 3 and max(xs) - min(xs) <= 3, "both inside one 4x4 window"
        assert min(ys + xs) >= 0 and max(ys + xs) <= 32


def test_noise_centres_cover_the_documented_range(gen):
    frames = noise_frames(1, 5000, 1, (W, H, 2), gen)[0]
    xs = [x for f in frames for _, _, x in decode(f)]
    assert min(xs) == 0 and max(xs) == 32  # centre 2..31, offsets -2..+1


def test_noise_level_counts_event_pairs(gen):
    frames = noise_frames(2, 200, 4, (W, H, 2), gen)
    per_frame = frames.sum(-1)
    assert per_frame.max() <= 8 and per_frame.float().mean() > 7  # 4 pairs (rare overlaps merge)


def test_signal_replaces_noise_at_start_and_mask_marks_it(gen):
    sig = torch.zeros(2, 50, 2 * H * W)
    sig[:, :, 5] = 1
    x, mask, starts = embed_batch(sig, 300, level=1, starts=torch.tensor([0, 250]), generator=gen)
    assert starts.tolist() == [0, 250]
    for b, s in enumerate((0, 250)):
        assert mask[b].sum() == 50 and mask[b, s : s + 50].all()
        assert torch.equal(x[b, s : s + 50], sig[b]), "signal frames replace the noise frames"
        assert (x[b, ~mask[b]].sum(-1) == 2).all(), "every other frame is reference noise"


def test_noise_inside_signal_window_when_asked(gen):
    sig = torch.zeros(1, 50, 2 * H * W)
    x, mask, _ = embed_batch(sig, 300, level=1, in_signal=True, generator=gen)
    assert (x[0, mask[0]].sum(-1) == 2).all()


def test_random_starts_follow_the_reference_range(gen):
    """Starts are drawn from [0, T - L) = [0, 250) like the reference (a 5x5 sensor keeps 2000 samples small)."""
    small = (5, 5, 2)
    _, mask, starts = embed_batch(torch.zeros(2000, 50, 50), 300, level=0, sensor=small, generator=gen)
    assert starts.min() == 0 and starts.max() == 249, "both ends of [0, 250) are reached in 2000 draws"
    assert torch.equal(mask.float().argmax(1), starts), "the mask starts where the signal does"


def test_same_generator_seed_same_sample():
    sig = (torch.rand(50, 2 * H * W, generator=torch.Generator().manual_seed(1)) < 0.01).float()
    a = TemporalNoise(level=2)(sig, torch.Generator().manual_seed(5))
    b = TemporalNoise(level=2)(sig, torch.Generator().manual_seed(5))
    c = TemporalNoise(level=2)(sig, torch.Generator().manual_seed(6))
    assert torch.equal(a.x, b.x) and a.start == b.start
    assert not torch.equal(a.x, c.x)


def test_bad_arguments_are_clear(gen):
    with pytest.raises(ValueError, match="does not fit"):
        TemporalNoise(T=40)(torch.zeros(50, 2 * H * W), gen)
    with pytest.raises(ValueError, match="channels"):
        TemporalNoise()(torch.zeros(50, 100), gen)
    with pytest.raises(ValueError, match="outside"):
        TemporalNoise()(torch.zeros(50, 2 * H * W), gen, start=260)
