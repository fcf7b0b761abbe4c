"""The base of two-network trainers: a generator and a discriminator, two optimizers."""

import keras


class AdversarialModel(keras.Model):
    """A `keras.Model` holding `generator` and `discriminator`, with one
    optimizer each, saved and restored with the model.

    Subclasses set `self.generator` and `self.discriminator` and write
    `train_step`.
    """

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        """Configures the two optimizers.

        Args:
            g_optimizer: Optimizer (or its name or config) of the generator.
            d_optimizer: Optimizer (or its name or config) of the discriminator.
            **kwargs: Passed to `keras.Model.compile`, e.g. `jit_compile`.
        """
        # No Keras-level optimizer: the default would be an unused RMSprop
        # that is saved, restored and warned about.
        super().compile(optimizer=None, **kwargs)
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self._gan_compile_config = {
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
        }
        # Create the slots now, so that loading a saved GAN or a backup from
        # keras.callbacks.BackupAndRestore restores the optimizer state.
        self.build_optimizers()

    def get_compile_config(self):
        return getattr(self, "_gan_compile_config", None)

    def compile_from_config(self, config):
        self.compile(
            g_optimizer=keras.optimizers.deserialize(config["g_optimizer"]),
            d_optimizer=keras.optimizers.deserialize(config["d_optimizer"]),
        )

    def build_optimizers(self):
        """Creates the optimizers' variables, as loading weights into them needs."""
        if not self.g_optimizer.built:
            self.g_optimizer.build(self.generator.trainable_variables)
        if not self.d_optimizer.built:
            self.d_optimizer.build(self.discriminator.trainable_variables)

    def get_config(self):
        config = super().get_config()
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.serialize_keras_object(getattr(self, key))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
