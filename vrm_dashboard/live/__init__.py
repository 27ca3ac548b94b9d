"""Live figures shared by everything that serves a page in this process: the watcher of the
database (`hub`) and the hubs that the overview screen and the API read (`overview`)."""
