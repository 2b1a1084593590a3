"""Program out: encoder link, ingests, recording, replay buffer, clips and moments."""
