"""Synthetic road scenes: procedurally generated (label map, RGB image) pairs.

A scene is a street seen from a car: a road running to a vanishing point,
possibly curving, with lane markings, sidewalks on both sides, facades of
buildings and trees along them, cars on the road and the sky. The layout is
drawn in normalised image coordinates, so one seed gives the same scene at any
resolution; the rendering adds per-class colours and textures (asphalt grain,
paving joints, windows, foliage, clouds), a sun side, haze with distance and
pixel noise. This is the segmentation-to-image task of the Compact GAN paper,
made from nothing so that it needs no download.
"""

import numpy as np
import tensorflow as tf

ROAD_CLASSES = (
    "sky",
    "road",
    "lane_marking",
    "sidewalk",
    "building",
    "vegetation",
    "car",
)
SKY, ROAD, LANE, SIDEWALK, BUILDING, VEGETATION, CAR = range(len(ROAD_CLASSES))

# Colours of the classes in label-map figures (Cityscapes-like).
LABEL_COLORS = np.array(
    [
        [70, 130, 180],
        [128, 64, 128],
        [255, 255, 255],
        [244, 35, 232],
        [70, 70, 70],
        [107, 142, 35],
        [0, 0, 142],
    ],
    dtype=np.uint8,
)

_BLOCKS = 64  # building/tree blocks drawn per side of the street
_MIN_RESOLUTION = 16


def road_scenes(n: int, resolution: int = 64, seed: int = 0):
    """Generates `n` road scenes as label maps and the images they depict.

    Scene `i` of seed `s` depends only on `(s, i)`: the first scenes of a
    larger `n` are the scenes of a smaller one, and the layout (not the pixel
    noise) is the same at every resolution.

    Args:
        n: Number of scenes, a positive integer.
        resolution: Height and width in pixels, an integer of at least 16.
        seed: Non-negative integer.

    Returns:
        `(labels, images)`: uint8 arrays of shapes `(n, resolution,
        resolution)` with class indices into `ROAD_CLASSES`, and `(n,
        resolution, resolution, 3)` with RGB values.
    """
    for name, value, low in (("n", n, 1), ("resolution", resolution, _MIN_RESOLUTION)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(
                f"`{name}` must be an integer of at least {low}. "
                f"Received: {name}={value!r}"
            )
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"`seed` must be a non-negative integer. Received: seed={seed!r}"
        )
    labels = np.empty((n, resolution, resolution), np.uint8)
    images = np.empty((n, resolution, resolution, 3), np.uint8)
    for i in range(n):
        layout_rng = np.random.default_rng([seed, i, 0])
        texture_rng = np.random.default_rng([seed, i, resolution])
        scene = _Scene(layout_rng, resolution)
        labels[i] = scene.labels
        images[i] = scene.render(texture_rng)
    return labels, images


def colorize(labels):
    """RGB uint8 picture of label maps (any leading shape), for figures."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= len(ROAD_CLASSES)):
        raise ValueError(
            f"Labels must lie in [0, {len(ROAD_CLASSES) - 1}]. "
            f"Received: range=[{labels.min()}, {labels.max()}]"
        )
    return LABEL_COLORS[labels]


def one_hot(labels):
    """float32 one-hot encoding of label maps, classes on a new last axis."""
    return np.eye(len(ROAD_CLASSES), dtype=np.float32)[np.asarray(labels)]


class _Scene:
    """The geometry of one scene; `labels` on construction, `render` for RGB."""

    def __init__(self, rng, size):
        self.size = size
        u = (np.arange(size) + 0.5) / size
        self.u, self.v = np.meshgrid(u, u)  # column and row in (0, 1)
        self.horizon = rng.uniform(0.36, 0.5)
        self.vanish_x = rng.uniform(0.38, 0.62)
        self.curve = rng.uniform(-0.25, 0.25)
        self.road_left = rng.uniform(0.45, 0.75)
        self.road_right = rng.uniform(0.45, 0.75)
        self.walk = rng.uniform(0.12, 0.28)
        self.lane_width = rng.uniform(0.008, 0.016)
        self.dash_frequency = rng.uniform(1.2, 2.5)
        self.dash_phase = rng.uniform()
        self.edge_lines = rng.uniform() < 0.5
        # Blocks along each side: building (0), trees (1) or an open lot (2).
        self.block_density = rng.uniform(0.4, 1.0)
        self.block_phase = rng.uniform(size=2)
        self.block_kind = rng.choice(3, size=(2, _BLOCKS), p=[0.6, 0.3, 0.1])
        self.block_height = rng.uniform(0.3, 1.4, size=(2, _BLOCKS))
        self.cars = [
            (rng.uniform(0.12, 0.95), rng.uniform(-0.75, 0.75), rng.uniform(0.26, 0.38))
            for _ in range(rng.integers(0, 4))
        ]
        self.cars.sort()  # far to near, so that near cars occlude far ones
        self.palette = {
            "sky_top": rng.uniform([40, 90, 170], [120, 160, 235]),
            "sky_low": rng.uniform([170, 185, 200], [235, 235, 245]),
            "road": rng.uniform(65, 115) * rng.uniform(0.95, 1.05, 3),
            "lane": [255, 255, 255] if rng.uniform() < 0.7 else [235, 200, 60],
            "walk": rng.uniform([150, 140, 125], [200, 190, 180]),
            "buildings": rng.uniform(
                [90, 70, 60], [220, 200, 180], size=(2, _BLOCKS, 3)
            ),
            "trees": rng.uniform([40, 80, 20], [90, 140, 60], size=(2, _BLOCKS, 3)),
            "cars": rng.uniform(20, 230, size=(len(self.cars), 3)),
        }
        self.brightness = rng.uniform(0.75, 1.15)
        self.sun_left = rng.uniform(0.6, 1.0)
        self.sun_right = rng.uniform(0.6, 1.0)
        self.labels = self._label()

    def center(self, depth):
        """Column of the road centre at `depth` (0 at the horizon, 1 at the bottom)."""
        return self.vanish_x + self.curve * (1.0 - depth) ** 2

    def _label(self):
        u, v, h = self.u, self.v, self.horizon
        below = v > h
        depth = np.clip((v - h) / (1.0 - h), 1e-3, None)
        center = self.center(depth)
        left_edge = center - depth * self.road_left
        right_edge = center + depth * self.road_right
        labels = np.full(u.shape, SKY, np.uint8)
        road = below & (u > left_edge) & (u < right_edge)
        walk = below & ~road & (u > left_edge - depth * self.walk)
        walk &= u < right_edge + depth * self.walk
        labels[road] = ROAD
        labels[walk] = SIDEWALK
        # Dashed centre line (dashes equally spaced in distance, 1/depth) and
        # optional solid lines along the road's edges.
        near_center = np.abs(u - center) < depth * self.lane_width
        dash = np.mod(self.dash_frequency / depth + self.dash_phase, 1.0) < 0.5
        lanes = road & near_center & dash
        if self.edge_lines:
            margin = 2.5 * depth * self.lane_width
            lanes |= road & ((u < left_edge + margin) | (u > right_edge - margin))
        labels[lanes] = LANE
        self._facade_labels(labels, below, road | walk)
        self._car_labels(labels)
        return labels

    def _side_depth(self, side):
        """Depth of a facade seen at each column, on one side of the street."""
        reach = self.road_left + self.walk if side == 0 else self.road_right + self.walk
        offset = self.vanish_x - self.u if side == 0 else self.u - self.vanish_x
        return np.clip(offset / reach, 1e-3, None)

    def _block(self, side, depth):
        """Block index along one side for each facade depth."""
        index = np.floor(self.block_density / depth + self.block_phase[side] * 3)
        return np.clip(index.astype(int), 0, _BLOCKS - 1)

    def _facade_labels(self, labels, below, street):
        u, v, h = self.u, self.v, self.horizon
        self.facade_side = np.full(u.shape, -1, np.int8)
        for side in (0, 1):
            on_side = (u < self.vanish_x) if side == 0 else (u >= self.vanish_x)
            depth = self._side_depth(side)
            block = self._block(side, depth)
            kind = self.block_kind[side][block]
            top = h - depth * self.block_height[side][block] * 0.45
            # Tree crowns are bumpy: their top line waves with the column.
            bumps = 0.04 * depth * np.sin(u * 90.0 + side * 2.0) ** 2
            top = np.where(kind == 1, top + bumps, top)
            facade = on_side & ~street & (v >= top) & ((kind != 2) | below)
            labels[facade & (kind == 0)] = BUILDING
            labels[facade & (kind != 0)] = VEGETATION
            self.facade_side[facade] = side

    def _car_labels(self, labels):
        u, v, h = self.u, self.v, self.horizon
        self.car_index = np.full(u.shape, -1, np.int8)
        for index, (depth, lane, width) in enumerate(self.cars):
            bottom = h + depth * (1.0 - h)
            half_road = self.road_left if lane < 0 else self.road_right
            x = self.center(depth) + lane * depth * half_road * 0.7
            w = depth * width
            height = 0.75 * w
            body = (np.abs(u - x) < w / 2) & (v < bottom) & (v > bottom - 0.6 * height)
            cabin = (np.abs(u - x) < w * 0.36) & (v <= bottom - 0.6 * height)
            cabin &= v > bottom - height
            car = body | cabin
            labels[car] = CAR
            self.car_index[car] = index

    def render(self, rng):
        """RGB uint8 image of the scene, textures drawn from `rng`."""
        u, v, h, size = self.u, self.v, self.horizon, self.size
        labels, p = self.labels, self.palette
        depth = np.clip((v - h) / (1.0 - h), 1e-3, 1.0)
        grain = rng.normal(0.0, 1.0, u.shape)
        blotches = _smooth_noise(rng, size, 6)
        image = np.zeros(u.shape + (3,))

        sky_mix = np.clip(v / h, 0.0, 1.0)[..., None]
        clouds = np.clip(_smooth_noise(rng, size, 5), 0.0, None)[..., None]
        sky = p["sky_top"] * (1 - sky_mix) + p["sky_low"] * sky_mix
        sky = sky + clouds * 60.0
        image = np.where((labels == SKY)[..., None], sky, image)

        road = p["road"] * (1.0 + 0.06 * blotches[..., None]) + 8.0 * grain[..., None]
        image = np.where((labels == ROAD)[..., None], road, image)
        image = np.where((labels == LANE)[..., None], np.array(p["lane"], float), image)

        # Paving joints: lines equally spaced in distance across the sidewalk.
        joints = np.mod(6.0 / depth, 1.0) < 0.12
        walk = (
            p["walk"] * np.where(joints, 0.8, 1.0)[..., None] + 5.0 * grain[..., None]
        )
        image = np.where((labels == SIDEWALK)[..., None], walk, image)

        for side in (0, 1):
            facade_depth = self._side_depth(side)
            block = self._block(side, facade_depth)
            sun = self.sun_left if side == 0 else self.sun_right
            mine = self.facade_side == side
            # Windows: a grid in (distance along the street, height) coordinates.
            along = np.mod(self.block_density * 8.0 / facade_depth, 1.0)
            up = np.mod((h - v) / facade_depth * 18.0, 1.0)
            windows = (along > 0.3) & (along < 0.75) & (up > 0.35) & (up < 0.8)
            wall = p["buildings"][side][block] * np.where(windows, 0.45, 1.0)[..., None]
            leaves = p["trees"][side][block] * (1.0 + 0.25 * grain[..., None])
            color = sun * np.where((labels == BUILDING)[..., None], wall, leaves)
            image = np.where(mine[..., None], color, image)

        for index in range(len(self.cars)):
            mine = self.car_index == index
            if not mine.any():
                continue
            rows = np.nonzero(mine.any(axis=1))[0]
            top, bottom = rows.min(), rows.max()
            fraction = ((np.arange(size) - top) / max(bottom - top, 1))[:, None]
            fraction = np.broadcast_to(fraction, u.shape)
            color = np.broadcast_to(p["cars"][index], u.shape + (3,)).copy()
            color[fraction < 0.4] *= 0.35  # windows of the cabin
            color[fraction > 0.88] = 25.0  # wheels and shadow
            image = np.where(mine[..., None], color, image)

        # Haze: far things fade towards the colour of the sky at the horizon.
        ground_depth = np.where(
            self.facade_side >= 0,
            np.minimum(self._side_depth(0), self._side_depth(1)),
            depth,
        )
        haze = np.where(
            labels == SKY, 0.0, 0.5 * (1.0 - np.clip(ground_depth, 0, 1)) ** 3
        )
        image = image * (1 - haze[..., None]) + p["sky_low"] * haze[..., None]
        image = image * self.brightness + rng.normal(0.0, 3.0, image.shape)
        return np.clip(np.round(image), 0, 255).astype(np.uint8)


def scene_pairs(n, resolution, seed):
    """`(one-hot label maps, images in [-1, 1])` of `n` road scenes."""
    labels, images = road_scenes(n, resolution, seed)
    return one_hot(labels), images.astype(np.float32) / 127.5 - 1.0


def scene_dataset(n, resolution, batch_size, seed):
    """A shuffled, repeating `tf.data.Dataset` of `(conditions, images)`."""
    conditions, images = scene_pairs(n, resolution, seed)
    return (
        tf.data.Dataset.from_tensor_slices((conditions, images))
        .shuffle(n, seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=True)
        .repeat()
        .prefetch(2)
    )


def calibration_maps(resolution, n=100, seed=7):
    """int8 calibration inputs of a pix2pix generator for `to_litert`:
    `n` one-hot road-scene label maps of batch 1, from their own seed."""
    return [[c[None]] for c in one_hot(road_scenes(n, resolution, seed)[0])]


def _smooth_noise(rng, size, cells):
    """Noise of unit scale varying over about `cells` cells per side (bilinear)."""
    grid = rng.normal(0.0, 1.0, (cells + 1, cells + 1))
    position = np.linspace(0.0, cells, size)
    index = np.minimum(position.astype(int), cells - 1)
    frac = position - index
    rows = grid[index] * (1 - frac)[:, None] + grid[index + 1] * frac[:, None]
    return rows[:, index] * (1 - frac) + rows[:, index + 1] * frac
