"""The desktop window (PyQt6 + pyqtgraph). The only package that imports Qt."""
