"""Trains the road-scene segmenter behind the Compact GAN's mIoU.

    python scripts/train_segmenter.py [--resolution 64] [--scenes 4000]

Trains on real synthetic road scenes (`kgan.data.road_scenes`, seed 1) and
tests on unseen ones (seed 2). Writes `kgan/saved_models/road_scenes_segmenter.keras`,
its card `.md` and its measured test mIoU `.json`; refuses to save a
segmenter below the required mIoU.
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kgan.data.road_scenes import ROAD_CLASSES, road_scenes  # noqa: E402
from kgan.files import atomic_path  # noqa: E402
from kgan.metrics.classifier import saved_models_dir  # noqa: E402
from kgan.metrics.segmentation import Segmenter, build_segmenter, mean_iou  # noqa: E402

REQUIRED_MIOU = 0.85
TRAIN_SEED, TEST_SEED = 1, 2


def write_card(path, args, miou, per_class, seconds, parameters):
    rows = "\n".join(
        f"| {name} | {iou:.3f} |"
        for name, iou in zip(ROAD_CLASSES, per_class, strict=True)
    )
    text = f"""# Road-scene segmenter (kgan metrics)

- **Purpose**: the FCN score of the Compact GAN experiments: generated road
  scenes are segmented and compared with the label maps they were generated
  from (mean IoU). A generator that keeps the layout scores near this
  segmenter's mIoU on real scenes.
- **Architecture**: `kgan.metrics.segmentation.build_segmenter`: a small U-Net
  (two stride-2 stages, {args.filters}/{2 * args.filters}/{4 * args.filters}
  filters, conv3x3-BN-ReLU pairs, skip connections, 1x1 logits over
  {len(ROAD_CLASSES)} classes); {parameters:,} parameters. Inputs are
  {args.resolution}x{args.resolution} RGB images in [-1, 1].
- **Data**: {args.scenes:,} scenes of `kgan.data.road_scenes(seed={TRAIN_SEED})`;
  tested on {args.test_scenes:,} unseen scenes (seed {TEST_SEED}).
- **Training**: Adam 1e-3 with cosine decay, batch {args.batch_size},
  {args.epochs} epochs, seed {args.seed}; {seconds:.0f} s on
  {platform.machine()} CPU, {len(os.sched_getaffinity(0))} core(s).
- **Test mIoU**: {miou:.4f} (required: {REQUIRED_MIOU}).

| class | IoU |
|---|---|
{rows}

- **Retrain**: `python scripts/train_segmenter.py`
"""
    with atomic_path(path) as partial:
        partial.write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--scenes", type=int, default=4000)
    parser.add_argument("--test-scenes", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="default: kgan/saved_models/")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out) if args.out else saved_models_dir()

    keras.utils.set_random_seed(args.seed)
    labels, images = road_scenes(args.scenes, args.resolution, TRAIN_SEED)
    test_labels, test_images = road_scenes(args.test_scenes, args.resolution, TEST_SEED)
    data = (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=args.seed)
        .batch(args.batch_size)
        .map(lambda x, y: (tf.cast(x, tf.float32) / 127.5 - 1.0, y))
        .prefetch(2)
    )
    model = build_segmenter(args.resolution, len(ROAD_CLASSES), args.filters)
    steps = args.epochs * int(np.ceil(args.scenes / args.batch_size))
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(1e-3, steps)
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    start = time.perf_counter()
    model.fit(data, epochs=args.epochs, verbose=2)
    seconds = time.perf_counter() - start

    inference = build_segmenter(args.resolution, len(ROAD_CLASSES), args.filters)
    inference.set_weights(model.get_weights())  # no optimizer state in the file
    predicted = Segmenter(inference).predict(test_images)
    miou, per_class = mean_iou(test_labels, predicted, len(ROAD_CLASSES))
    print(f"test mIoU {miou:.4f} on {args.test_scenes} scenes")
    if miou < REQUIRED_MIOU:
        print(f"not saved: below the required {REQUIRED_MIOU}", file=sys.stderr)
        return 1
    path = out / "road_scenes_segmenter.keras"
    with atomic_path(path) as partial:
        inference.save(partial)
    write_card(
        out / "road_scenes_segmenter.md",
        args,
        miou,
        per_class,
        seconds,
        inference.count_params(),
    )
    summary = {
        "test_miou": miou,
        "per_class_iou": dict(zip(ROAD_CLASSES, per_class.tolist(), strict=True)),
        "test_scenes": args.test_scenes,
        "resolution": args.resolution,
        "train_scenes": args.scenes,
        "epochs": args.epochs,
        "seed": args.seed,
    }
    with atomic_path(out / "road_scenes_segmenter.json") as partial:
        partial.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {path} and its card")
    return 0


if __name__ == "__main__":
    sys.exit(main())
