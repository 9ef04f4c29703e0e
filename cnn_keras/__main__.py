import sys

from cnn_keras.cli import main

sys.exit(main())
