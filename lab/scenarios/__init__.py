"""One module per lab scenario; ``lab.catalog`` lists them in run order."""
