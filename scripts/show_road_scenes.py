"""Writes synthetic road scenes: label maps above the images they depict.

    python scripts/show_road_scenes.py [--n 8] [--resolution 64] [--seed 0]

Output: `results/road_scenes.png` (the data of the Compact GAN experiments).
"""

import argparse
import os
import sys

import numpy as np

from kgan.data.road_scenes import colorize, road_scenes
from kgan.images import make_grid, save_png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("results", "road_scenes.png"))
    args = parser.parse_args(argv)
    labels, images = road_scenes(args.n, args.resolution, args.seed)
    # A row of label maps above the row of the images they depict.
    tiles = np.concatenate([colorize(labels), images]).astype(np.float32) / 127.5 - 1
    save_png(make_grid(tiles, columns=args.n), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
