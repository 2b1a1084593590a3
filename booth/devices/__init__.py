"""The only layer that talks to device libraries (cv2, av, pyaudio, psutil, requests)."""
