"""The base of every kgan trainer: two networks, two optimizers and what the
trainers share (loss trackers, train-step noise, generator EMA, sampling)."""

import keras
import tensorflow as tf

from kgan.latents import normal_latents
from kgan.layers.scaling_gate import ScalingGate


class AdversarialModel(keras.Model):
    """A `keras.Model` that trains a generator against a discriminator.

    It owns what every kgan trainer needs, so that a subclass writes only its
    `train_step` and what differs:

    - one optimizer per network (`compile(g_optimizer, d_optimizer)`, with
      `default_optimizer()` for either left out), saved and restored with the
      model through its compile config;
    - loss trackers (`track_losses(...)`, `record_losses(...)`);
    - `seed_generator`, the source of every train step's noise, seeded from
      `seed` (`kgan.runs.Checkpoint` saves its state with the weights);
    - the moving average of the generator's weights (`ema`), whose model
      `sampler` returns, and `update_ema()`;
    - `regularization(network)`: a network's own losses (weight
      regularizers, the L1 of scaling gates);
    - `sample_inputs(n, seed)` and `generate(n, seed)` for latent-driven
      generators.

    Args:
        generator: The generator, a Keras model (a subclass that builds its
            own networks passes `None`).
        discriminator: The discriminator, a Keras model, or `None` likewise.
        ema: Decay of the moving average of the generator's weights, e.g.
            `0.999`, or `None` (no average).
        seed: Integer seed of the train-step noise. `None` takes one from
            Keras' global seed (`keras.utils.set_random_seed`).
        **kwargs: Base `keras.Model` keyword arguments such as `name`.
    """

    # Constructor arguments that hold Keras models, serialized as such.
    network_arguments = ("generator", "discriminator")
    # Shape of one generator input drawn from N(0, I); `None` for trainers
    # whose generator takes conditions instead.
    latent_shape = None

    def __init__(
        self, generator=None, discriminator=None, ema=None, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        if ema is not None and not 0.0 < ema < 1.0:
            raise ValueError(f"`ema` must be in (0, 1) or None. Received: ema={ema}")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(
                f"`seed` must be an integer or None. Received: seed={seed!r}"
            )
        self.ema = ema
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.trackers = {}
        self.discriminator_frozen = False
        self.gate_optimizer = None
        if generator is not None:
            self.generator = generator
        if discriminator is not None:
            self.discriminator = discriminator
        self.ema_generator = None
        if ema is not None and generator is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False

    # --------------------------------------------------------------- compile
    @staticmethod
    def default_optimizer():
        """Radford's Adam (learning rate 2e-4, beta1 0.5), also pix2pix's."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Configures the two optimizers.

        Args:
            g_optimizer: Optimizer (or its name or config) of the generator;
                `default_optimizer()` when `None`.
            d_optimizer: Optimizer of the discriminator, likewise.
            **kwargs: Passed to `keras.Model.compile`, e.g. `jit_compile`.
        """
        # No Keras-level optimizer: the default would be an unused RMSprop
        # that is saved, restored and warned about.
        super().compile(optimizer=None, **kwargs)
        self.g_optimizer = keras.optimizers.get(g_optimizer or self.default_optimizer())
        self.d_optimizer = keras.optimizers.get(d_optimizer or self.default_optimizer())
        self._gan_compile_config = {
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
        }
        # Create the slots now, so that loading a saved trainer or a
        # checkpoint restores the optimizer state.
        self.build_optimizers()

    def get_compile_config(self):
        return getattr(self, "_gan_compile_config", None)

    def compile_from_config(self, config):
        self.compile(
            g_optimizer=keras.optimizers.deserialize(config["g_optimizer"]),
            d_optimizer=keras.optimizers.deserialize(config["d_optimizer"]),
        )

    def generator_variables(self):
        """Every variable the generator optimizer may update."""
        return self.generator.trainable_variables

    def discriminator_variables(self):
        """Every variable the discriminator optimizer may update."""
        return self.discriminator.trainable_variables

    def build_optimizers(self):
        """Creates the optimizers' variables, as loading weights into them needs."""
        if not self.g_optimizer.built:
            self.g_optimizer.build(self.generator_variables())
        if not self.d_optimizer.built:
            self.d_optimizer.build(self.discriminator_variables())

    # ------------------------------------------------- compact GAN retraining
    def freeze_discriminator(self, frozen=True):
        """Stops (or resumes) training the discriminator; the generator
        alone learns, against the discriminator as it stands (the Compact
        GAN's retraining).

        A frozen discriminator keeps every weight, BatchNorm statistics
        included, yet judges as it did in training: its BatchNorm layers
        still normalise with the statistics of each batch, and the moving
        statistics that this updates are put back after every step
        (`discriminator_statistics`). (Setting `trainable = False` instead
        would switch its BatchNorm to the moving statistics: a different
        function, which the generator quickly learns to fool.) A trainer's
        `train_step` honours `discriminator_frozen`.
        """
        self.discriminator_frozen = bool(frozen)
        self.train_function = None  # trace again: the step changes

    def use_gate_optimizer(self, optimizer):
        """Updates the factors of the generator's `ScalingGate`s with
        `optimizer` and its other weights with the generator optimizer, so
        that the gates can learn at their own rate while slimming. `None`
        goes back to one optimizer. Not saved with the model."""
        self.gate_optimizer = optimizer
        self.train_function = None
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.gate_variables())

    def gate_variables(self):
        """The trainable factors of the generator's scaling gates."""
        return [
            layer.scale
            for layer in self.generator.layers
            if isinstance(layer, ScalingGate) and layer.trainable
        ]

    def apply_generator_gradients(self, gradients, variables):
        """Applies the generator's gradients: the gates' with the gate
        optimizer, if one is in use, the rest with the generator optimizer."""
        if self.gate_optimizer is None:
            self.g_optimizer.apply(gradients, variables)
            return
        gate_ids = {id(variable) for variable in self.gate_variables()}
        pairs = list(zip(gradients, variables, strict=True))
        for optimizer, is_gate in (
            (self.gate_optimizer, True),
            (self.g_optimizer, False),
        ):
            chosen = [(g, v) for g, v in pairs if (id(v) in gate_ids) == is_gate]
            if chosen:
                optimizer.apply(*zip(*chosen, strict=True))

    def discriminator_statistics(self):
        """A copy of the discriminator's non-trainable variables (BatchNorm
        moving statistics), for `restore_discriminator_statistics`."""
        return [
            tf.identity(v.value) for v in self.discriminator.non_trainable_variables
        ]

    def restore_discriminator_statistics(self, saved):
        for variable, value in zip(
            self.discriminator.non_trainable_variables, saved, strict=True
        ):
            variable.assign(value)

    # -------------------------------------------------------------- trackers
    def track_losses(self, *names):
        """Creates one mean tracker per loss name, reported in this order."""
        for name in names:
            self.trackers[name] = keras.metrics.Mean(name=name)

    def record_losses(self, **values):
        """Updates the named trackers; returns the logs of every tracker."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())

    # ---------------------------------------------------------------- train
    @staticmethod
    def regularization(network, replicas=1):
        """The network's own losses (regularizers, gates), split across
        `replicas` so that their sum over a strategy's replicas is one copy."""
        if not network.losses:
            return 0.0
        return tf.add_n([tf.cast(x, tf.float32) for x in network.losses]) / replicas

    def ema_pairs(self):
        """`(average, weight)` variable pairs that `update_ema` moves."""
        return zip(self.ema_generator.weights, self.generator.weights, strict=True)

    def ema_decay(self):
        """The decay of this step's moving-average update."""
        return self.ema

    def update_ema(self):
        """One step of the moving average: trainable weights are averaged,
        the others (batch statistics) copied."""
        decay = self.ema_decay()
        for average, weight in self.ema_pairs():
            if weight.trainable:
                average.assign(decay * average + (1.0 - decay) * weight)
            else:
                average.assign(weight)

    # --------------------------------------------------------------- sample
    @property
    def sampler(self):
        """The generator used for samples: the moving average when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def call(self, inputs, training=False):
        return self.sampler(inputs, training=training)

    def sample_inputs(self, n, seed=None):
        """Returns `(n, *latent_shape)` N(0, I) generator inputs (NumPy).

        Args:
            n: Positive number of inputs.
            seed: Integer seed (the same seed, the same inputs), or `None`
                for NumPy's global generator.
        """
        if self.latent_shape is None:
            raise TypeError(
                f"{type(self).__name__} generators take conditions, not latent "
                "vectors: call the generator on conditions instead. "
                f"Received: latent_shape={self.latent_shape}"
            )
        return normal_latents(n, self.latent_shape, seed)

    def generate(self, n, seed=None, batch_size=256):
        """Returns `n` generated images as a NumPy array in [-1, 1].

        Args:
            n: Positive number of images.
            seed: Integer seed of the latent vectors, or `None` for fresh ones.
            batch_size: Images generated per forward pass.
        """
        inputs = self.sample_inputs(n, seed)
        return self.sampler.predict(inputs, batch_size=batch_size, verbose=0)

    # -------------------------------------------------------- serialization
    def get_config(self):
        config = super().get_config()
        for key in self.network_arguments:
            config[key] = keras.saving.serialize_keras_object(getattr(self, key))
        config.update({"ema": self.ema, "seed": self.seed})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.network_arguments:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
