"""Every Qt name the gui package uses, imported in one place (a port touches one file)."""

from PyQt6 import uic
from PyQt6.QtCore import (QAbstractTableModel, QByteArray, QEvent, QModelIndex, QObject,
                          QProcess, QProcessEnvironment, QSettings, Qt, QThread, QTimer, QUrl,
                          pyqtSignal, pyqtSlot)
from PyQt6.QtGui import (QAction, QDesktopServices, QDragEnterEvent, QDropEvent, QFont, QIcon,
                         QKeySequence)
from PyQt6.QtWidgets import (QApplication, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                             QFrame, QGroupBox, QHBoxLayout, QHeaderView, QMainWindow, QMessageBox,
                             QScrollArea, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
                             QWidget)
import pyqtgraph as pg

__all__ = [
    "uic", "QAbstractTableModel", "QByteArray", "QModelIndex", "QObject", "QProcess",
    "QProcessEnvironment", "QSettings", "Qt", "QThread", "QTimer", "QUrl", "pyqtSignal",
    "pyqtSlot", "QAction", "QDesktopServices", "QDragEnterEvent", "QDropEvent", "QFont", "QIcon",
    "QApplication", "QComboBox", "QDialog", "QDialogButtonBox", "QFileDialog", "QHeaderView",
    "QMainWindow", "QMessageBox", "QTableWidgetItem", "QVBoxLayout", "QWidget", "pg",
    "QGroupBox", "QHBoxLayout", "QTableWidget", "QEvent", "QKeySequence", "QScrollArea",
    "QSplitter", "QFrame",
]
