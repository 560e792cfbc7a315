"""The two ways a pool's warm room is made: placeholder pods (a Deployment) or an upstream
CapacityBuffer.
"""
