// The serial edge of voltwatch: discovery, termios ports, reader, fake device, recorder.
