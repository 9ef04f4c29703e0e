"""The data-parallel tests' runs (test_distribute*.py): a ResNet-8 (ResNet-20's structure with
one block per stage: compiling and tracing take most of these runs' time) for 2 epochs on 1
device, or on 2 interrupted after epoch 1 and resumed. `launch` starts the processes of a
launch (each making one or more runs in turn) and returns what each printed; engines fix their
devices at start-up, hence fresh processes.

tensorflow: 2 logical CPU devices (MirroredStrategy); jax: 2 host devices in one process
(DataParallel), or 2 processes of one device each joined over loopback
(`keras.distribution.initialize`, Keras 3's several-host path)."""

import json
import os
import socket
import subprocess
import sys


def launch(backend: str, devices: list[int], processes: int, out) -> list[list[dict]]:
    """The runs on `devices` (e.g. [1, 2]: one device, then two) in each process, written to
    out/on<N>; per process, one result per run (loss and val_loss per epoch, devices,
    resumes, synchronized batch-norm layers)."""
    with socket.socket() as s:  # a free port for the processes to meet on
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if backend == "jax":  # compiling takes most of these runs' time: compile faster
        env["XLA_FLAGS"] = ("--xla_backend_optimization_level=0 "
                            "--xla_llvm_disable_expensive_passes=true")
        if processes == 1:
            env["XLA_FLAGS"] += " --xla_force_host_platform_device_count=2"
    runs = [subprocess.Popen([sys.executable, __file__, backend, ",".join(map(str, devices)),
                              str(processes), str(pid), str(out), str(port)], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for pid in range(processes)]
    results = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr[-3000:]
        results.append([json.loads(line) for line in stdout.strip().splitlines()
                        if line.startswith("{")])
    return results


def main(backend, device_counts, processes, pid, out, port) -> None:
    import keras

    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    elif processes > 1:
        keras.distribution.initialize(job_addresses=f"localhost:{port}",
                                      num_processes=processes, process_id=pid)
    from cnn_keras import data, training

    _register_resnet8()
    images = data.synthetic_dataset(128, 64, num_classes=4, seed=0)

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    for devices in device_counts:
        # a strong weight decay, so that a replica left undecayed would show in the losses
        settings = dict(
            recipe=training.scaled_recipe(2, batch_size=32, lr=0.02, weight_decay=0.05),
            seed=0, verbose=0, engine=training.Engine(devices=devices, pipeline="tf.data"))
        run = os.path.join(out, f"on{devices}")
        if devices > 1:
            try:
                training.train("resnet8", images, run, callbacks=[Interrupt()], **settings)
            except KeyboardInterrupt:
                pass
        history = training.train("resnet8", images, run, **settings)
        info = json.load(open(os.path.join(run, "run.json")))
        print(json.dumps({"loss": [r["loss"] for r in history],
                          "val_loss": [r["val_loss"] for r in history],
                          "devices": info["devices"], "resumed": len(info.get("resumed", [])),
                          "synchronized": info.get("synchronized_batch_norm_layers", 0)}),
              flush=True)


def _register_resnet8() -> None:
    from cnn_keras.models.resnet import resnet_cifar
    from cnn_keras.registry import register_model

    def resnet8(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=10, classifier_activation="softmax", name=None):
        return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                            classifier_activation, name, depth=8, residual=True)

    register_model(depth=8, residual=True, family="resnet")(resnet8)


if __name__ == "__main__":
    main(sys.argv[1], [int(n) for n in sys.argv[2].split(",")], int(sys.argv[3]),
         int(sys.argv[4]), sys.argv[5], sys.argv[6])
