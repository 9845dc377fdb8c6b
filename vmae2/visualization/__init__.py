from .reconstruction import (
                             reconstruction_grid,
                             render_reconstructions,
                             save_rgb,
                             stack_grids,
                             token_mask_to_pixels,
)

__all__ = [
    'reconstruction_grid', 'render_reconstructions', 'save_rgb', 'stack_grids',
    'token_mask_to_pixels'
]
