"""ImageNet-style training augmentation of the VGG and AlexNet papers, as tf.data image ops.

* `scale_jitter`: multi-scale training (Simonyan & Zisserman 2014, Sec. 3.1): each image is
  isotropically rescaled so that its shorter side is a random S in [S_min, S_max] (the paper:
  [256, 512]), then a random 224x224 crop is taken. S_min = S_max gives the paper's single-scale
  training (S = 256 or 384).
* `rgb_color_shift`: the "random RGB colour shift" VGG takes from AlexNet (Krizhevsky et al.
  2012, Sec. 4.1): PCA on the RGB values of the training set, then add to every pixel of an
  image ``sum_i alpha_i * lambda_i * p_i`` with ``alpha_i ~ N(0, 0.1)`` drawn once per image.
  `rgb_pca` computes (lambda, p) from a uint8 dataset.

Random horizontal flips, the third augmentation of the paper, are `tf.image.stateless_random_
flip_left_right` (or `cnn_keras.augment.pad_crop_flip` for CIFAR).

Every random op is stateless: the output is a function of the input and the ``seed`` (an int or a
shape-[2] integer tensor) alone, so a pipeline is reproducible and a resumed run sees the same
augmentation. Each op takes one image (H, W, C) or a batch (B, H, W, C); in a batch every image
gets its own random draw. Invalid arguments raise a `ValueError` that ends in ``Received: ...``.
Reference: https://arxiv.org/abs/1409.1556
"""

from __future__ import annotations

import numpy as np

from cnn_keras.checks import check_int, check_number

try:  # tf ops; `rgb_pca` (numpy) and `cnn_keras.augment.cifar` work without TensorFlow
    import tensorflow as tf
except ImportError:  # pragma: no cover - exercised on machines without TensorFlow
    tf = None

__all__ = ["resize_shorter_side", "rgb_color_shift", "rgb_pca", "scale_jitter"]

_PHILOX = "philox"  # fixed algorithm: the same numbers on every device


def _seed(seed):
    """A shape-[2] int64 seed tensor from an int or a shape-[2] integer tensor / list."""
    if isinstance(seed, bool):
        raise ValueError(f"`seed` must be an int or a shape-[2] integer tensor. "
                         f"Received: seed={seed!r}")
    seed_t = tf.convert_to_tensor(seed)
    if not seed_t.dtype.is_integer or seed_t.shape.rank not in (0, 1) or (
        seed_t.shape.rank == 1 and seed_t.shape[0] not in (2, None)
    ):
        raise ValueError(f"`seed` must be an int or a shape-[2] integer tensor. "
                         f"Received: seed={seed!r}")
    seed_t = tf.cast(seed_t, tf.int64)
    if seed_t.shape.rank == 0:
        seed_t = tf.stack([seed_t, tf.constant(0, tf.int64)])
    return seed_t


def _image_rank(images, arg="image"):
    rank = images.shape.rank
    if rank not in (3, 4):
        raise ValueError(f"`{arg}` must be one image (H, W, C) or a batch (B, H, W, C). "
                         f"Received: {arg}.shape={images.shape}")
    return rank


def _per_image_seeds(seed, batch):
    """One shape-[2] seed per image of the batch, derived from `seed`."""
    return tf.random.stateless_uniform([batch, 2], seed, minval=None, maxval=None,
                                       dtype=tf.int64, alg=_PHILOX)


# --- Multi-scale training (VGG Sec. 3.1) ---------------------------------------------------
def resize_shorter_side(image, size):
    """Rescale one image (H, W, C) isotropically so that its shorter side is `size` (bilinear,
    antialiased when shrinking); the longer side is rounded. Returns float32."""
    image = tf.convert_to_tensor(image)
    if image.shape.rank != 3:
        raise ValueError(f"`image` must be one image (H, W, C). Received: image.shape="
                         f"{image.shape}")
    shape = tf.shape(image)
    h = tf.cast(shape[0], tf.float64)
    w = tf.cast(shape[1], tf.float64)
    size_f = tf.cast(size, tf.float64)
    short = tf.minimum(h, w)
    new_h = tf.where(h <= w, size_f, tf.round(h * size_f / short))
    new_w = tf.where(h <= w, tf.round(w * size_f / short), size_f)
    new_size = tf.cast(tf.stack([new_h, new_w]), tf.int32)
    return tf.image.resize(tf.cast(image, tf.float32), new_size, method="bilinear",
                           antialias=True)


def scale_jitter(image, seed, s_min=256, s_max=512, crop=224):
    """Scale jittering (VGG Sec. 3.1): rescale to a random shorter side S, take a random crop.

    S is drawn uniformly from the integers in [s_min, s_max] (the paper: [256, 512]; s_min =
    s_max is single-scale training), the image is resized isotropically so its shorter side is
    S, and a random `crop` x `crop` window is cut out (the paper: 224). Each image of a batch
    gets its own S and crop position.

    Args:
        image: one image (H, W, C) or a batch (B, H, W, C), any real dtype.
        seed: an int or a shape-[2] integer tensor; the same seed gives the same output.
        s_min, s_max: range of the training scale S; need `crop <= s_min <= s_max`.
        crop: side of the square crop, or None to return the rescaled image uncropped (one
            image only: rescaled images of a batch have different sizes).

    Returns:
        float32 (crop, crop, C) or (B, crop, crop, C), in the input's value range.
    """
    image = tf.convert_to_tensor(image)
    rank = _image_rank(image)
    seed = _seed(seed)
    check_int("s_min", s_min)
    check_int("s_max", s_max)
    if s_max < s_min:
        raise ValueError(f"`s_max` must be >= s_min ({s_min}). Received: s_max={s_max!r}")
    if crop is not None:
        check_int("crop", crop)
        if crop > s_min:
            raise ValueError(f"`crop` must be <= s_min ({s_min}), or the shorter side can be "
                             f"smaller than the crop. Received: crop={crop!r}")
    elif rank == 4:
        raise ValueError("`crop=None` (no crop) works on one image only: the rescaled images "
                         "of a batch have different sizes. Received: crop=None")
    channels = image.shape[-1]

    def one(img, img_seed):
        seeds = tf.random.experimental.stateless_split(img_seed, 2, alg=_PHILOX)
        scale = tf.random.stateless_uniform([], seeds[0], minval=s_min, maxval=s_max + 1,
                                            dtype=tf.int32, alg=_PHILOX)
        resized = resize_shorter_side(img, scale)
        if crop is None:
            return resized
        size = tf.stack([crop, crop, tf.shape(resized)[-1]])
        out = tf.image.stateless_random_crop(resized, size, seeds[1])
        return tf.ensure_shape(out, (crop, crop, channels))

    if rank == 3:
        return one(image, seed)
    batch = tf.shape(image)[0]
    return tf.map_fn(
        lambda args: one(*args),
        (image, _per_image_seeds(seed, batch)),
        fn_output_signature=tf.TensorSpec((crop, crop, channels), tf.float32),
    )


# --- PCA colour augmentation (AlexNet Sec. 4.1, used by VGG Sec. 3.1) -------------------------
def rgb_pca(images_uint8, *, chunk_pixels=1 << 22):
    """Eigenvalues and eigenvectors of the 3x3 covariance of the RGB pixel values of a dataset.

    The pixel values are taken in [0, 1] (uint8 / 255), so apply `rgb_color_shift` to images
    scaled to [0, 1]. The covariance is accumulated in float64 over chunks of pixels, so a large
    dataset is not copied.

    Args:
        images_uint8: uint8 array (..., 3): one image (H, W, 3) or many (N, H, W, 3).
        chunk_pixels: pixels per accumulation chunk.

    Returns:
        ``(eigvals, eigvecs)``: float32 (3,) in descending order and float32 (3, 3) whose
        column ``i`` is the unit eigenvector of ``eigvals[i]``.
    """
    x = np.asarray(images_uint8)
    if x.dtype != np.uint8:
        raise ValueError(f"`images_uint8` must be a uint8 array. Received: "
                         f"images_uint8.dtype={x.dtype}")
    if x.ndim < 2 or x.shape[-1] != 3 or x.size == 0:
        raise ValueError("`images_uint8` must be a non-empty array of RGB pixels (..., 3). "
                         f"Received: images_uint8.shape={x.shape}")
    check_int("chunk_pixels", chunk_pixels)
    pixels = x.reshape(-1, 3)
    n = len(pixels)
    total = np.zeros(3)
    outer = np.zeros((3, 3))
    for start in range(0, n, chunk_pixels):
        chunk = pixels[start:start + chunk_pixels].astype(np.float64) / 255.0
        total += chunk.sum(axis=0)
        outer += chunk.T @ chunk
    mean = total / n
    cov = outer / n - np.outer(mean, mean)
    eigvals, eigvecs = np.linalg.eigh(cov)
    order = np.argsort(eigvals)[::-1]
    eigvals = np.clip(eigvals[order], 0.0, None)
    return eigvals.astype(np.float32), eigvecs[:, order].astype(np.float32)


def rgb_color_shift(image, seed, eigvals, eigvecs, std=0.1):
    """AlexNet's PCA colour augmentation: add ``sum_i alpha_i * lambda_i * p_i`` to every pixel.

    Krizhevsky et al. 2012, Sec. 4.1: "To each training image, we add multiples of the found
    principal components, with magnitudes proportional to the corresponding eigenvalues times a
    random variable drawn from a Gaussian with mean zero and standard deviation 0.1"; one draw of
    ``alpha`` per image (per presentation), the same shift for all its pixels. VGG (Sec. 3.1)
    uses it as its "random RGB colour shift". No clipping (as in the paper).

    The shift is in the units of the images the PCA was computed on (`rgb_pca`: [0, 1]). It uses
    the eigenvalues as the paper says; many implementations (e.g. fb.resnet.torch) use their
    square roots (the standard deviations along the components) instead: pass
    ``np.sqrt(eigvals)`` for that.

    Args:
        image: float image (H, W, 3) or batch (B, H, W, 3).
        seed: an int or a shape-[2] integer tensor; the same seed gives the same output.
        eigvals: (3,) eigenvalues lambda_i (from `rgb_pca`).
        eigvecs: (3, 3), column i the eigenvector p_i (from `rgb_pca`).
        std: standard deviation of alpha_i (the paper: 0.1); 0 returns the image unchanged.

    Returns:
        A tensor of the shape and (float) dtype of `image`.
    """
    image = tf.convert_to_tensor(image)
    rank = _image_rank(image)
    if not image.dtype.is_floating:
        raise ValueError("`image` must be a float tensor (e.g. scaled to [0, 1]). "
                         f"Received: image.dtype={image.dtype.name}")
    if image.shape[-1] is not None and image.shape[-1] != 3:
        raise ValueError(f"`image` must have 3 (RGB) channels. Received: image.shape="
                         f"{image.shape}")
    seed = _seed(seed)
    vals = np.asarray(eigvals, dtype=np.float64)
    vecs = np.asarray(eigvecs, dtype=np.float64)
    if vals.shape != (3,) or not np.all(np.isfinite(vals)):
        raise ValueError(f"`eigvals` must be 3 finite numbers. Received: eigvals={eigvals!r}")
    if vecs.shape != (3, 3) or not np.all(np.isfinite(vecs)):
        raise ValueError(f"`eigvecs` must be a finite 3x3 matrix (columns = eigenvectors). "
                         f"Received: eigvecs={eigvecs!r}")
    std = check_number("std", std, low=0)
    batch = 1 if rank == 3 else tf.shape(image)[0]
    alpha = tf.random.stateless_normal([batch, 3], seed, stddev=std, dtype=tf.float64,
                                       alg=_PHILOX)
    # delta[b] = sum_i alpha[b, i] * lambda_i * p_i = eigvecs @ (alpha[b] * lambda)
    delta = tf.einsum("ij,bj->bi", tf.constant(vecs), alpha * tf.constant(vals))
    delta = tf.cast(delta, image.dtype)
    if rank == 3:
        return image + delta[0]
    return image + delta[:, None, None, :]
