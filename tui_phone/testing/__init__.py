"""Test tooling shipped with the package (impairment relay, RTP scenarios, certificates)."""
