import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.compress import add_gates, set_l1
from kgan.compress.retraining import pix2pix_trainer
from kgan.data.road_scenes import one_hot, road_scenes
from kgan.models.pix2pix import Pix2Pix
from kgan.models.pix2pix_networks import patch_discriminator, unet_generator

SIZE = 16


def _pairs(n=8):
    labels, images = road_scenes(n, SIZE, seed=0)
    return one_hot(labels), images.astype("float32") / 127.5 - 1.0


def _dataset(n=8, batch=4):
    conditions, images = _pairs(n)
    return tf.data.Dataset.from_tensor_slices((conditions, images)).batch(batch)


def _trainer(**kwargs):
    keras.utils.set_random_seed(0)
    generator = unet_generator(SIZE, filters=4, max_filters=16, **kwargs)
    discriminator = patch_discriminator(SIZE, filters=4, downsamplings=2)
    trainer = Pix2Pix(generator, discriminator)
    trainer.compile()
    return trainer


def test_network_shapes():
    generator = unet_generator(32, condition_channels=5, filters=8, max_filters=32)
    assert generator.output_shape == (None, 32, 32, 3)
    # Five stride-2 convs down to 1x1, widths doubling up to the cap.
    widths = [generator.get_layer(f"down{k}_conv").filters for k in range(1, 6)]
    assert widths == [8, 16, 32, 32, 32]
    # Decoder blocks mirror the encoder, each concatenated with its skip.
    assert generator.get_layer("up1_skip").output.shape[-1] == 32 + 32
    assert generator.get_layer("up4_skip").output.shape[-1] == 8 + 8
    outputs = generator(np.random.default_rng(0).normal(size=(2, 32, 32, 5)))
    assert np.all(np.abs(outputs) <= 1.0)
    discriminator = patch_discriminator(32, condition_channels=5, downsamplings=3)
    assert discriminator.output_shape == (None, 4, 4, 1)


@pytest.mark.parametrize(
    "builder, kwargs, message",
    [
        (unet_generator, {"image_size": 24}, "image_size=24"),
        (unet_generator, {"filters": 0}, "filters=0"),
        (unet_generator, {"dropout": 1.0}, "dropout=1.0"),
        (patch_discriminator, {"image_size": 8, "downsamplings": 4}, "image_size=8"),
    ],
)
def test_bad_arguments(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(**kwargs)


def test_fit_trains_both_networks_and_logs_the_losses():
    trainer = _trainer()
    d_before = [w.numpy().copy() for w in trainer.discriminator.weights]
    history = trainer.fit(_dataset(), epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "g_adversarial", "g_l1"}
    changed = [
        not np.array_equal(before, after.numpy())
        for before, after in zip(d_before, trainer.discriminator.weights, strict=True)
    ]
    assert all(changed)


def test_frozen_discriminator_keeps_every_weight():
    trainer = _trainer()
    trainer.fit(_dataset(), epochs=1, verbose=0)
    trainer.freeze_discriminator()
    d_before = [w.numpy().copy() for w in trainer.discriminator.weights]
    g_before = [w.numpy().copy() for w in trainer.generator.trainable_weights]
    history = trainer.fit(_dataset(), epochs=2, verbose=0)
    assert "d_loss" not in history.history
    # Still trainable as a Keras layer: its BatchNorm uses batch statistics.
    assert trainer.discriminator.trainable
    for before, after in zip(d_before, trainer.discriminator.weights, strict=True):
        np.testing.assert_array_equal(before, after.numpy())  # statistics too
    assert any(
        not np.array_equal(before, after.numpy())
        for before, after in zip(
            g_before, trainer.generator.trainable_weights, strict=True
        )
    )
    trainer.freeze_discriminator(False)
    trainer.fit(_dataset(), epochs=1, verbose=0)
    assert not np.array_equal(d_before[0], trainer.discriminator.weights[0].numpy())


def test_gate_penalty_enters_the_generator_loss():
    trainer = _trainer(dropout=0.0)
    gated = add_gates(trainer.generator)
    conditions, images = _pairs(4)
    results = {}
    for l1 in (0.0, 1.0):
        set_l1(gated, l1)
        keras.utils.set_random_seed(1)
        trainer = Pix2Pix(gated, trainer.discriminator)
        trainer.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
        results[l1] = trainer.train_on_batch(conditions, images, return_dict=True)
    filters = sum(
        layer.scale.shape[0] for layer in gated.layers if hasattr(layer, "penalty")
    )
    # All gates are 1, so the penalty is l1 * (number of gated filters).
    np.testing.assert_allclose(
        results[1.0]["g_loss"] - results[0.0]["g_loss"], filters, rtol=1e-4
    )


def test_gate_optimizer_updates_the_gates_alone():
    trainer = _trainer(dropout=0.0)
    gated = add_gates(trainer.generator, l1=1.0)
    trainer = Pix2Pix(gated, trainer.discriminator)
    trainer.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    trainer.use_gate_optimizer(keras.optimizers.SGD(0.5))
    gate_scales = [w for w in gated.weights if w.path.endswith("_gate/scale")]
    others = [w for w in gated.trainable_weights if not w.path.endswith("_gate/scale")]
    before = [w.numpy().copy() for w in gate_scales + others]
    conditions, images = _pairs(4)
    trainer.train_on_batch(conditions, images)
    after = [w.numpy() for w in gate_scales + others]
    n = len(gate_scales)
    for old, new in zip(before[:n], after[:n], strict=True):
        assert not np.allclose(old, new)
    for old, new in zip(
        before[len(gate_scales) :], after[len(gate_scales) :], strict=True
    ):
        np.testing.assert_array_equal(old, new)


def test_generator_trainer_works_on_a_copy_of_the_discriminator():
    trainer = _trainer(dropout=0.0)
    discriminator = trainer.discriminator
    before = [w.numpy().copy() for w in discriminator.weights]
    training = pix2pix_trainer(discriminator)
    frozen = [w.numpy().copy() for w in training.discriminator.weights]
    training(trainer.generator, _dataset().repeat(), 2, keras.optimizers.Adam())
    for old, new in zip(frozen, training.discriminator.weights, strict=True):
        np.testing.assert_array_equal(old, new.numpy())
    joint = training.make_trainer(trainer.generator, training.discriminator)
    joint.compile()
    joint.fit(_dataset().repeat(), steps_per_epoch=2, verbose=0)
    changed = [
        not np.array_equal(old, new.numpy())
        for old, new in zip(frozen, training.discriminator.weights, strict=True)
    ]
    assert any(changed)
    for old, new in zip(before, discriminator.weights, strict=True):
        np.testing.assert_array_equal(old, new.numpy())


def test_save_and_load_round_trip(tmp_path):
    trainer = _trainer()
    trainer.fit(_dataset(), epochs=1, verbose=0)
    path = tmp_path / "pix2pix.keras"
    trainer.save(path)
    loaded = keras.saving.load_model(path)
    conditions, _ = _pairs(2)
    np.testing.assert_allclose(loaded(conditions), trainer(conditions), atol=1e-6)
    assert loaded.l1_weight == 100.0
    loaded.fit(_dataset(), epochs=1, verbose=0)  # trains again after loading


def test_batches_must_be_pairs():
    trainer = _trainer()
    conditions, _ = _pairs(4)
    with pytest.raises(ValueError, match="conditions, images"):
        trainer.fit(conditions, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="l1_weight=-1"):
        Pix2Pix(trainer.generator, trainer.discriminator, l1_weight=-1)
