"""The app's screens and modals, one module each."""
