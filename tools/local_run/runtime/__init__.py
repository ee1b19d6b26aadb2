"""The function as Lambda runs it, without Docker: the template read as SAM reads it, `sam build`
for this machine, the function's environment, the Runtime Interface Emulator and its REPORT."""
