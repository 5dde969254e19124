"""Speech family: text to speech, speech recognition and answer (intent) confirmation."""
