"""Knowledge distillation: a small net trained on a big net's softened outputs.

The third way of making a small net that the notes list beside pruning and quantisation
(`cnn_keras.compress`). MobileNet's paper counts it among the ways to *train* a small net
(Sec. 2) and uses it in Sec. 4.5, where a MobileNet learns face attributes from a large
in-house classifier. The method is Hinton, Vinyals & Dean 2015 ("Distilling the Knowledge in a
Neural Network"): the student's loss is a mix of the usual cross-entropy on the labels and the
cross-entropy (here the KL divergence, which differs from it by the teacher's entropy, a
constant) between the teacher's and the student's class probabilities, both softened by a
temperature T; the soft term is multiplied by T^2 so that its gradients keep their size as T
changes (Sec. 2 of the paper).

`Distiller` is a `keras.Model` around a student and a frozen teacher; it overrides only
`compute_loss`, so `fit`, `evaluate`, the metrics and every backend work as for any model.
Both nets output class probabilities (softmax), as every builder of this package does by
default; a probability's log is its logit up to a constant, which softening ignores.
"""

from __future__ import annotations

import keras
from keras import ops

from cnn_keras.checks import check_number, fail

_EPS = 1e-7  # keeps log(p) finite where a softmax underflows to 0


def soften(probs, temperature: float):
    """Class probabilities at `temperature`: softmax(log(probs) / T). T = 1 returns `probs`;
    larger T flattens them, so the small probabilities a net gives the wrong classes (which
    of them it finds similar) weigh more."""
    return ops.softmax(ops.log(ops.clip(probs, _EPS, 1.0)) / temperature, axis=-1)


def distillation_loss(teacher_probs, student_probs, temperature: float):
    """T^2 KL(teacher_T || student_T) per example: how far the student's softened
    probabilities are from the teacher's, scaled so that the gradients keep their size
    whatever T is."""
    target = soften(teacher_probs, temperature)
    log_ratio = ops.log(ops.clip(target, _EPS, 1.0)) - ops.log(
        ops.clip(soften(student_probs, temperature), _EPS, 1.0))
    return temperature**2 * ops.sum(target * log_ratio, axis=-1)


def pack(labels, teacher_probs):
    """`DistillationLoss`'s `y_true`: the integer labels (or one-hot rows, read as their
    argmax) in column 0, the teacher's probabilities after them."""
    teacher_probs = ops.cast(teacher_probs, "float32")
    if labels is None:  # alpha 0: the labels are not used
        labels = ops.zeros(ops.shape(teacher_probs)[:1])
    elif len(labels.shape) == 2 and labels.shape[-1] not in (None, 1):
        labels = ops.argmax(labels, axis=-1)
    labels = ops.reshape(ops.cast(labels, "float32"), (-1, 1))
    return ops.concatenate([labels, teacher_probs], axis=-1)


@keras.saving.register_keras_serializable(package="cnn_keras")
class DistillationLoss(keras.losses.Loss):
    """``alpha * CE(label, student) + (1 - alpha) * distillation_loss(teacher, student, T)``
    per example, averaged as any Keras loss (so that it is scaled right under
    `tf.distribute`). `y_true` is `pack(labels, teacher_probs)`; computed in float32 whatever
    the nets' dtype policy."""

    def __init__(self, alpha: float = 0.5, temperature: float = 4.0, name="distillation",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.alpha = check_number("alpha", alpha, low=0, high=1)
        self.temperature = check_number("temperature", temperature, low=0, low_open=True)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        labels, teacher = ops.cast(y_true[:, 0], "int32"), y_true[:, 1:]
        hard = keras.losses.sparse_categorical_crossentropy(labels, y_pred)
        if self.alpha == 1:
            return hard
        soft = distillation_loss(teacher, y_pred, self.temperature)
        return soft if self.alpha == 0 else self.alpha * hard + (1.0 - self.alpha) * soft

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="cnn_keras")
class Distiller(keras.Model):
    """`student` trained on the labels and on `teacher`'s softened outputs.

    The loss per example is ``alpha * CE(label, student) + (1 - alpha) * T^2 KL(teacher_T ||
    student_T)`` (`DistillationLoss`), plus the student's own regularisation losses. The
    teacher runs in inference mode (its batch norm and dropout as at test time) and is never
    trained; with alpha 1 it is not run at all. Compile with an optimizer and metrics only
    (the loss is this class's). Labels are integers or one-hot rows; with alpha 0 they may be
    None. `predict` and `evaluate` run the student; `distiller.student` is the trained net to
    keep (`distiller.save` keeps both nets).

    Args:
        student, teacher: Keras models taking the same inputs and giving class probabilities
            over the same classes.
        alpha: weight of the labels' cross-entropy, in [0, 1]; 0 learns from the teacher
            alone, 1 ignores it.
        temperature: T > 0; Hinton et al. used T from 2 to 20.
    """

    def __init__(self, student, teacher, *, alpha: float = 0.5, temperature: float = 4.0,
                 **kwargs):
        super().__init__(**kwargs)
        for arg, net in (("student", student), ("teacher", teacher)):
            if not isinstance(net, keras.Model):
                fail(f"`{arg}` must be a keras.Model.", **{arg: type(net).__name__})
        if student.output.shape[-1] != teacher.output.shape[-1]:
            fail(f"`teacher` must predict the student's {student.output.shape[-1]} classes.",
                 teacher=f"{teacher.output.shape[-1]} classes")
        self.distillation = DistillationLoss(alpha, temperature)
        self.alpha, self.temperature = self.distillation.alpha, self.distillation.temperature
        self.student, self.teacher = student, teacher
        self.teacher.trainable = False
        self.built = True  # both nets are built: callbacks that restore weights need it

    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        if loss is not None:
            fail("`loss` must be left out: a Distiller's loss is its DistillationLoss (set "
                 "alpha and temperature when you build it).", loss=loss)
        super().compile(optimizer=optimizer, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.alpha < 1:  # alpha 1 is plain training: the teacher's forward pass not paid for
            teacher_probs = ops.stop_gradient(self.teacher(x, training=False))
        else:
            teacher_probs = ops.zeros(ops.shape(y_pred), "float32")
        if y is None and self.alpha > 0:
            fail("`y` (the labels) must be given unless alpha is 0.", y=y)
        loss = self.distillation(pack(y, teacher_probs), y_pred, sample_weight)
        for extra in self.student.losses:  # weight decay (the teacher's is no concern here)
            # as Keras' own compute_loss adds them: scaled per replica under tf.distribute
            loss = loss + ops.cast(self._aggregate_additional_loss(extra), loss.dtype)
        return loss

    def get_config(self):
        return {"student": keras.saving.serialize_keras_object(self.student),
                "teacher": keras.saving.serialize_keras_object(self.teacher),
                "alpha": self.alpha, "temperature": self.temperature, "name": self.name}

    @classmethod
    def from_config(cls, config):
        nets = {k: keras.saving.deserialize_keras_object(config.pop(k))
                for k in ("student", "teacher")}
        return cls(**nets, **config)
