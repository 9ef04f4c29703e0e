"""Experiments: every one-idea-on/off study of the course (the degradation of deep plain nets
included) as data in `studies`, trained by the one runner in `runner`.

    from cnn_keras.experiments import ablation, degradation
    degradation.run("demo")          # plain-20/56 vs ResNet-20/56 (He et al. 2015, Fig. 6)
    ablation.run("vgg", "demo")      # VGG depth A vs D, pre-initialisation
"""

from cnn_keras.experiments import ablation, degradation, runner, studies  # noqa: F401

__all__ = ["ablation", "degradation", "runner", "studies"]
