"""A saved model with the package's layers loads in a new process (where `import cnn_keras`
alone registers nothing)."""

import subprocess
import sys

import cnn_keras


def test_a_saved_resnet_loads_in_a_fresh_process(tmp_path):
    path = tmp_path / "resnet20.keras"
    cnn_keras.resnet20().save(path)  # holds ZeroPadShortcut layers
    code = ("import sys, cnn_keras; m = cnn_keras.load_model(sys.argv[1]); "
            "print(m.count_params(), type(m.get_layer('conv3_block1_0_shortcut')).__name__)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["271098", "ZeroPadShortcut"]
