"""Mask generators: ratios, patterns, determinism."""

import pytest
import torch

from vmae2.masking import (
    FrameMaskGenerator,
    RandomMaskGenerator,
    RunningCellMaskGenerator,
    TubeMaskGenerator,
    build_mask_generator,
)
from vmae2.registry import MASK_GENERATORS

GRID = (8, 14, 14)  # ViT-B/16 on 16x224x224


def test_tube_exact_ratio_and_identical_frames():
    gen = TubeMaskGenerator(GRID, 0.9)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        mask = gen(g)
        assert mask.dtype == torch.bool and mask.shape == (8 * 14 * 14, )
        frames = mask.view(8, 14 * 14)
        assert int(frames[0].sum()) == int(0.9 * 196) == 176
        assert torch.equal(frames, frames[:1].expand_as(frames))  # same positions in every t
        assert int(mask.sum()) == gen.num_masked == 8 * 176


def test_tube_masks_differ_between_draws():
    gen = TubeMaskGenerator(GRID, 0.9)
    g = torch.Generator().manual_seed(1)
    assert not torch.equal(gen(g), gen(g))


@pytest.mark.parametrize('ratio,k', [(0.25, 1), (0.5, 2), (0.75, 3)])
def test_running_cell_closed_form_every_shift(ratio, k):
    t, h, w = 4, 6, 8
    gen = RunningCellMaskGenerator((t, h, w), ratio)
    queue = [1] * k + [0] * (4 - k)
    seen = set()
    for s in range(4):
        expected = torch.tensor([[[queue[(2 * (y % 2) + (x % 2) + s + tt + 1) % 4]
                                   for x in range(w)] for y in range(h)] for tt in range(t)],
                                dtype=torch.bool)
        assert torch.equal(gen.patterns[s], expected)
    g = torch.Generator().manual_seed(0)
    for _ in range(40):
        m = gen(g).view(t, h, w)
        s = next(s for s in range(4) if torch.equal(m, gen.patterns[s]))
        seen.add(s)
        # exactly k of 4 in every 2x2 cell at every step; every cell position decoded over 4 steps
        cells = m.view(t, h // 2, 2, w // 2, 2).sum((2, 4))
        assert bool((cells == k).all())
    assert seen == {0, 1, 2, 3}
    assert int(gen(g).sum()) == gen.num_masked == t * h * w * k // 4


def test_running_cell_matches_official_cell_queue():
    """The official Cell: pointer set to the shift, advanced once before each frame."""
    t, h, w = 3, 4, 4
    gen = RunningCellMaskGenerator((t, h, w), 0.5)
    queue = torch.tensor([1., 1., 0., 0.])
    for ptr0 in range(4):
        ptr, frames = ptr0, []
        for _ in range(t):
            ptr += 1
            cell = queue[(torch.arange(4) + ptr) % 4].reshape(2, 2)
            frames.append(cell.repeat(h // 2, w // 2))
        assert torch.equal(torch.stack(frames).bool(), gen.patterns[ptr0])


def test_running_cell_rejects_bad_config():
    with pytest.raises(ValueError, match='1 to 3'):
        RunningCellMaskGenerator((2, 4, 4), 0.1)
    with pytest.raises(ValueError, match='even'):
        RunningCellMaskGenerator((2, 5, 4), 0.5)


def test_random_and_frame_exact_counts():
    g = torch.Generator().manual_seed(0)
    r = RandomMaskGenerator(GRID, 0.9)(g)
    assert int(r.sum()) == int(0.9 * 1568) == 1411
    f = FrameMaskGenerator(GRID, 0.5)(g).view(8, -1)
    per_step = f.sum(1)
    assert set(per_step.tolist()) == {0, 196} and int((per_step == 196).sum()) == 4


#: masked tokens of one draw, computed independently of the generators, for a grid and ratio
EXPECTED_MASKED = {
    'TubeMaskGenerator': lambda t, h, w, r: t * int(r * h * w),
    'RunningCellMaskGenerator': lambda t, h, w, r: t * h * w * int(4 * r) // 4,
    'RandomMaskGenerator': lambda t, h, w, r: int(r * t * h * w),
    'FrameMaskGenerator': lambda t, h, w, r: int(r * t) * h * w,
}


def test_every_registered_generator_has_a_contract():
    assert set(MASK_GENERATORS.module_dict) == set(EXPECTED_MASKED)


@pytest.mark.parametrize('name', sorted(MASK_GENERATORS.module_dict))
@pytest.mark.parametrize('ratio', [0.5, 0.75])
def test_registry_exact_count_and_seeded_determinism(name, ratio):
    gen = MASK_GENERATORS.build(dict(type=name, input_size=GRID, ratio=ratio))
    a = gen.batch(3, torch.Generator().manual_seed(7))
    b = gen.batch(3, torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and a.dtype == torch.bool
    assert gen.num_masked == EXPECTED_MASKED[name](*GRID, ratio)
    assert a.shape == (3, 1568) and bool((a.sum(1) == gen.num_masked).all())
    many = gen.batch(16, torch.Generator().manual_seed(8))
    assert len({tuple(m.tolist()) for m in many}) > 1  # the draws are random
    torch.manual_seed(3)
    c = gen.batch(2)
    torch.manual_seed(3)
    assert torch.equal(c, gen.batch(2))  # the global RNG path is seeded too
    assert name in repr(gen)


def test_build_mask_generator_fills_grid():
    gen = build_mask_generator(dict(type='TubeMaskGenerator', ratio=0.75), (2, 4, 4))
    assert gen.input_size == (2, 4, 4) and gen.num_masked == 24
    assert build_mask_generator(None, (2, 4, 4)) is None
