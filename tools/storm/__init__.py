"""The storm: random operations on a real S3 emulator, their events delivered late, twice and
shuffled by several processes invoking the handler at once, and a judge of the final state."""
