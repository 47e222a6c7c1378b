"""What the API, the pages and the command line do: one function per action, whoever asks for it."""
