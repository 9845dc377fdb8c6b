"""Reconstruction pictures: pixel-exact layout of the grid, and the hook in a real run."""
import numpy as np
import torch

from vmae2.registry import MODELS
from vmae2.visualization import reconstruction_grid, token_mask_to_pixels
from vmae2.visualization.reconstruction import GREY

TINY = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64, patch_size=8)


def test_token_mask_to_pixels_layout():
    # grid (t, h, w) = (2, 2, 2); token 5 = (t=1, y=0, x=1)
    mask = torch.zeros(8, dtype=torch.bool)
    mask[5] = True
    px = token_mask_to_pixels(mask, (2, 2, 2), patch_size=4, tubelet_size=2)
    assert px.shape == (4, 8, 8)
    assert px[2:4, 0:4, 4:8].all() and px.sum() == 2 * 4 * 4


def test_grid_rows_show_input_mask_and_prediction():
    torch.manual_seed(0)
    C, T, H, W, p, q = 3, 4, 16, 16, 8, 2
    original = torch.rand(C, T, H, W)
    recon = torch.rand(C, T, H, W)
    N = (T // q) * (H // p) * (W // p)  # 8 tokens
    enc = torch.tensor([1, 1, 0, 1, 0, 1, 1, 0], dtype=torch.bool)  # hidden from the encoder
    qry = torch.tensor([1, 0, 0, 1, 1, 1, 0, 0], dtype=torch.bool)  # reconstructed
    assert enc.numel() == N
    img = reconstruction_grid(original, recon, enc, qry, p, q, max_frames=T)
    label_w, pad = 110, 2
    tile_h, tile_w = H + 2 * pad, W + 2 * pad

    def tile(row, frame):
        y0, x0 = row * tile_h + pad, label_w + frame * tile_w + pad
        return img[y0:y0 + H, x0:x0 + W].astype(np.float32) / 255

    enc_px = token_mask_to_pixels(enc, (2, 2, 2), p, q)
    qry_px = token_mask_to_pixels(qry, (2, 2, 2), p, q)
    for f in range(T):
        o = original[:, f].permute(1, 2, 0).numpy()
        r = recon[:, f].permute(1, 2, 0).numpy()
        e, qm = enc_px[f].numpy(), qry_px[f].numpy()
        assert np.allclose(tile(0, f), o, atol=1 / 255)
        masked = tile(1, f)
        assert np.allclose(masked[e], GREY, atol=1 / 255)
        assert np.allclose(masked[~e], o[~e], atol=1 / 255)
        shown = tile(2, f)
        hidden_not_queried = e & ~qm
        assert np.allclose(shown[hidden_not_queried], GREY, atol=1 / 255)
        assert np.allclose(shown[~hidden_not_queried], r[~hidden_not_queried], atol=1 / 255)


def test_render_with_model_reconstruct():
    from vmae2.visualization import render_reconstructions
    model = MODELS.build(dict(type='VideoMAEV2', backbone=dict(arch=TINY),
                              decoder=dict(embed_dims=16, num_heads=2, num_layers=1)))
    clips = torch.randint(0, 255, (2, 3, 4, 16, 16), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=list(clips), data_samples=None), False)
    enc, dec = model.get_masks(data['inputs'], None, torch.Generator().manual_seed(0))
    img = render_reconstructions(model, data['inputs'], enc, dec, max_clips=2)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    # two clips of three rows of 16-pixel frames (+ borders and titles)
    assert img.shape[0] >= 2 * 3 * 16
    # the first row of the first clip is the un-normalised input frame 0
    out = model.reconstruct(data['inputs'][:1], enc[:1], None if dec is None else dec[:1])
    assert torch.allclose(out['original'][0], clips[0].float() / 255, atol=1e-4)
