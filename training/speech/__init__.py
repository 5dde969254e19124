"""Training of the embedded Chinese answer recogniser on speech synthesised with espeak-ng."""
