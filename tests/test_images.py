import numpy as np
import pytest

from kgan.images import attention_box, attention_steps_grid, draw_box, make_grid


def test_make_grid_tiles_and_scales():
    images = np.stack([np.full((3, 2, 1), v) for v in (-1.0, 0.0, 1.0)])
    grid = make_grid(images, columns=2, padding=1)
    assert grid.shape == (2 * 4 + 1, 2 * 3 + 1, 1)
    assert grid[1, 1, 0] == 0 and grid[1, 4, 0] == 128 and grid[5, 1, 0] == 255


def test_draw_box_outline_and_clipping():
    rgb = np.zeros((10, 10, 3), np.uint8)
    draw_box(rgb, 2, 3, 6, 8)
    red = (rgb == (255, 0, 0)).all(axis=-1)
    expected = np.zeros((10, 10), bool)
    expected[3, 2:6] = expected[7, 2:6] = True
    expected[3:8, 2] = expected[3:8, 5] = True
    np.testing.assert_array_equal(red, expected)
    partly_outside = np.zeros((10, 10, 3), np.uint8)
    draw_box(partly_outside, -5, -5, 4, 4)
    red = (partly_outside == (255, 0, 0)).all(axis=-1)
    assert red[3, :4].all() and red[:4, 3].all() and red.sum() == 7


def test_attention_box_is_centred_on_the_grid():
    # An image of 28 px has its centre at 1-based 14.5, the 0-based edge 14.
    left, top, right, bottom = attention_box([14.5, 14.5, 2.0, 1.0, 1.0], n=5)
    assert (left, top, right, bottom) == (9.0, 9.0, 19.0, 19.0)
    assert attention_box([1.0, 2.0, 1.0, 1.0, 1.0], n=4, scale=2) == (-3, -1, 5, 7)


def test_attention_steps_grid_layout():
    canvases = np.full((2, 3, 8, 8, 1), -1.0)
    attention = np.zeros((2, 3, 5))
    attention[..., :3] = [4.5, 4.5, 1.0]  # a 4x4 box in the middle
    grid = attention_steps_grid(canvases, attention, n=4, scale=2, padding=2)
    assert grid.shape == (2 * 18 + 2, 3 * 18 + 2, 3)
    red = (grid == (255, 0, 0)).all(axis=-1)
    # each cell: box edges at 2 * (4 -+ 2) = 4..12 of its 16 px
    cell = red[2:18, 2:18]
    assert cell[4, 4:12].all() and cell[11, 4:12].all() and cell.sum() == 28
    assert red.sum() == 6 * 28
    with pytest.raises(ValueError, match="Received: canvases.shape"):
        attention_steps_grid(canvases[0], attention, n=4)
