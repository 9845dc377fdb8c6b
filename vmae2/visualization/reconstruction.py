"""Pictures of masked-autoencoder reconstructions, like the paper's figure.

For each clip a grid: one column per frame, three rows —

* **original** frames;
* **masked**: what the encoder saw (tube-masked patches greyed out);
* **reconstruction**: the decoder's prediction on its query patches pasted over the visible
  input; patches that were hidden from the encoder *and* not queried by the decoder (dual
  masking drops them from the loss) are greyed out, so the picture never shows pixels the
  model neither saw nor predicted.
"""
from typing import Optional, Sequence

import cv2
import numpy as np
import torch

GREY = 0.5
LABELS = ('original', 'masked', 'reconstruction')


def token_mask_to_pixels(mask: torch.Tensor, grid: Sequence[int], patch_size: int,
                         tubelet_size: int) -> torch.Tensor:
    """Expand a token mask to pixels.

    Args:
        mask: bool ``(N,)`` over tokens in ``(t, h, w)`` order.
        grid: the token grid ``(t, h, w)``.
        patch_size, tubelet_size: token size in pixels and frames.

    Returns:
        bool ``(T, H, W)`` with ``T = t * tubelet``, ``H = h * p``, ``W = w * p``.
    """
    t, h, w = grid
    m = mask.reshape(t, h, w)
    return (m.repeat_interleave(tubelet_size, 0).repeat_interleave(patch_size, 1)
            .repeat_interleave(patch_size, 2))


def reconstruction_grid(original: torch.Tensor,
                        reconstruction: torch.Tensor,
                        encoder_mask: torch.Tensor,
                        query_mask: torch.Tensor,
                        patch_size: int,
                        tubelet_size: int,
                        max_frames: int = 8,
                        scale: int = 1,
                        title: Optional[str] = None) -> np.ndarray:
    """Render one clip's grid.

    Args:
        original, reconstruction: ``(C, T, H, W)`` floats in ``[0, 1]`` (RGB).
        encoder_mask: bool ``(N,)``, True = hidden from the encoder.
        query_mask: bool ``(N,)``, True = reconstructed by the decoder.
        patch_size, tubelet_size: token size.
        max_frames: at most this many frames (evenly spaced) as columns.
        scale: integer upscaling of every frame (small clips are hard to see).
        title: optional text above the grid.

    Returns:
        ``uint8`` RGB image ``(rows, cols, 3)``.
    """
    C, T, H, W = original.shape
    grid = (T // tubelet_size, H // patch_size, W // patch_size)
    enc_px = token_mask_to_pixels(encoder_mask.cpu(), grid, patch_size, tubelet_size)
    qry_px = token_mask_to_pixels(query_mask.cpu(), grid, patch_size, tubelet_size)
    orig = original.detach().float().cpu().clamp(0, 1)
    rec = reconstruction.detach().float().cpu().clamp(0, 1)
    masked = torch.where(enc_px[None], torch.full_like(orig, GREY), orig)
    # visible input where the encoder saw it, prediction where queried, grey elsewhere
    shown = torch.where(enc_px[None] & ~qry_px[None], torch.full_like(rec, GREY), rec)
    frames = np.unique(np.linspace(0, T - 1, min(max_frames, T)).round().astype(int))

    rows = []
    for clip in (orig, masked, shown):
        tiles = []
        for f in frames:
            img = (clip[:, f].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            if scale > 1:
                img = cv2.resize(img, (W * scale, H * scale), interpolation=cv2.INTER_NEAREST)
            tiles.append(np.pad(img, ((2, 2), (2, 2), (0, 0)), constant_values=255))
        rows.append(np.concatenate(tiles, axis=1))
    body = np.concatenate(rows, axis=0)

    # row labels in a white margin on the left
    label_w = 110
    margin = np.full((body.shape[0], label_w, 3), 255, np.uint8)
    row_h = body.shape[0] // 3
    for i, text in enumerate(LABELS):
        cv2.putText(margin, text, (4, i * row_h + row_h // 2 + 4), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (0, 0, 0), 1, cv2.LINE_AA)
    out = np.concatenate([margin, body], axis=1)
    if title:
        bar = np.full((22, out.shape[1], 3), 255, np.uint8)
        cv2.putText(bar, title, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
        out = np.concatenate([bar, out], axis=0)
    return out


def stack_grids(grids: Sequence[np.ndarray], gap: int = 6) -> np.ndarray:
    """Stack several clips' grids vertically (padding widths to the widest)."""
    width = max(g.shape[1] for g in grids)
    parts = []
    for g in grids:
        pad = width - g.shape[1]
        parts.append(np.pad(g, ((0, gap), (0, pad), (0, 0)), constant_values=255))
    return np.concatenate(parts, axis=0)


def save_rgb(path: str, image: np.ndarray) -> None:
    """Write an RGB uint8 image (PNG by extension)."""
    if not cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f'could not write {path}')


@torch.no_grad()
def render_reconstructions(model, inputs: torch.Tensor, encoder_mask: torch.Tensor,
                           decoder_mask: Optional[torch.Tensor], max_clips: int = 2,
                           max_frames: int = 8, scale: int = 1,
                           title_prefix: str = '') -> np.ndarray:
    """Run ``model.reconstruct`` on normalised clips and render up to ``max_clips`` grids.

    Args:
        model: a :class:`vmae2.models.VideoMAEV2` (unwrapped).
        inputs: normalised clips ``(B, C, T, H, W)``.
        encoder_mask, decoder_mask: bool ``(B, N)`` (decoder may be None: VideoMAE V1).

    Returns:
        ``uint8`` RGB image with the grids stacked.
    """
    n = min(max_clips, inputs.shape[0])
    dec = None if decoder_mask is None else decoder_mask[:n]
    out = model.reconstruct(inputs[:n], encoder_mask[:n], dec)
    grids = []
    for i in range(n):
        loss = out['loss']
        title = f'{title_prefix}clip {i}  (batch loss {float(loss):.4f})'
        grids.append(reconstruction_grid(
            out['original'][i], out['reconstruction'][i], out['encoder_mask'][i],
            out['query_mask'][i], model.patch_size, model.tubelet_size,
            max_frames=max_frames, scale=scale, title=title))
    return stack_grids(grids)
