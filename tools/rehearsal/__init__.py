"""The deploy rehearsal: template.yaml's own wiring against an S3 we did not write (never shipped).

LocalStack runs on this machine without Docker (localstack.py); a stack is created in it from
the SAM transform's output, minus what LocalStack cannot run without Docker (stack.py); and the
queue the bucket notifies is read the way Lambda's event source would read it, each event handed
to the built function under the Runtime Interface Emulator (event_source.py). A bucket made
outside any stack, with another consumer's notifications, is read whole before and after a
deploy onto it (existing_bucket.py).

Lives outside src/ because template.yaml's CodeUri (src/) is exactly what ships to Lambda.
"""
