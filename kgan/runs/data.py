"""Training data indexed by step, so that a resumed run sees the very
batches an uninterrupted one would, without replaying the ones before."""

import dataclasses

import numpy as np
import tensorflow as tf

# Beyond any run: the step range of a stream is open-ended.
_LAST_STEP = 2**62


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of training with one data stream, e.g. one PGGAN phase.

    Attributes:
        key: Names the stream; a new key starts a new stream at its batch 0.
        steps: Steps left in the segment (at most these are run in a row).
        batch_size: Examples per batch.
        transform: Optional function applied to each batch in the pipeline,
            after the data's own transform (e.g. pooling images to a level).
    """

    key: str
    steps: int
    batch_size: int
    transform: object = None


class StepData:
    """In-memory arrays served as a `tf.data` stream of batches by step.

    Batch `i` of a stream is rows `[p * B, (p + 1) * B)` of epoch
    `e = i // (n // B)`'s permutation, `p = i % (n // B)`, where each
    epoch's permutation is a stateless shuffle seeded by `(seed, e)`: a
    stream can start at any batch at no cost, and two runs with one seed
    see the same batches.

    Args:
        arrays: Arrays with one row per example (e.g. images, or label
            maps and images), all of the same length.
        seed: Integer seed of the epochs' permutations.
        transform: Default function from the gathered arrays (tensors) to a
            batch, e.g. scaling uint8 images to [-1, 1].
    """

    def __init__(self, arrays, seed, transform=None):
        arrays = tuple(np.asarray(a) for a in arrays)
        counts = {len(a) for a in arrays}
        if len(counts) != 1 or not counts.pop():
            raise ValueError(
                "The arrays must be non-empty and of one length. "
                f"Received: lengths={[len(a) for a in arrays]}"
            )
        self.arrays = arrays
        self.seed = int(seed)
        self.transform = transform

    @property
    def count(self):
        return len(self.arrays[0])

    def stream(self, segment, first_batch=0):
        """The batches of `segment` from `first_batch` on, prefetched."""
        batch_size = segment.batch_size
        per_epoch = self.count // batch_size
        if per_epoch < 1:
            raise ValueError(
                "The batch size exceeds the number of training examples. "
                f"Received: batch_size={batch_size}, examples={self.count}"
            )
        tensors = tuple(tf.constant(a) for a in self.arrays)
        # One stream per segment key: its own permutations.
        stream_seed = self.seed + 7919 * (sum(map(ord, segment.key)) % 65521)

        def batch(index):
            epoch = index // per_epoch
            order = tf.random.experimental.stateless_shuffle(
                tf.range(self.count, dtype=tf.int64),
                seed=tf.stack([tf.constant(stream_seed, tf.int64), epoch]),
            )
            rows = order[(index % per_epoch) * batch_size :][:batch_size]
            gathered = tuple(tf.gather(t, rows) for t in tensors)
            if self.transform is not None:
                gathered = self.transform(*gathered)
            elif len(gathered) == 1:
                gathered = gathered[0]
            if segment.transform is not None:
                gathered = segment.transform(gathered)
            return gathered

        return _without_autotune(
            tf.data.Dataset.range(first_batch, _LAST_STEP).map(batch).prefetch(2)
        )


def _without_autotune(dataset):
    # As `kgan.data.load`: on 2 cores the autotuner's threads take time
    # from the training step (README, "Training throughput").
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


class DatasetData:
    """A caller's own `tf.data.Dataset` of batches, repeated. A stream that
    starts late skips the batches before it (exact when the dataset is
    deterministic, and it costs the skipped batches)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def stream(self, segment, first_batch=0):
        data = self.dataset
        if segment.transform is not None:
            data = data.map(segment.transform)
        return data.repeat().skip(first_batch).prefetch(2)


def first_batch(data):
    """The first batch of a `StepData` or `DatasetData` (its shapes), as
    NumPy: fails early on an empty dataset."""
    if isinstance(data, StepData):
        segment = Segment("probe", 1, min(data.count, 2))
        stream = data.stream(segment)
    else:
        stream = data.dataset
    try:
        batch = next(iter(stream))
    except StopIteration as error:
        raise ValueError(
            "The dataset is empty: it yields no batch. Received: 0 batches"
        ) from error
    return tf.nest.map_structure(np.asarray, batch)
