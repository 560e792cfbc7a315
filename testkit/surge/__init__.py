"""The course-surge scenario on the test cluster, shared by the benchmark (bench/surge_bench.py)
and the demo (demo/course_surge.py, run by scripts/demo).

scenario   the numbers of the scenario (every one a flag), pure
analysis   waits, node-minutes and the lower bound from recorded samples, pure
cluster    the test cluster: objects, students, and the sampler (kubernetes client)
feed       the calendar (.ics over loopback HTTP), the controller's config and process
run        one strategy end to end: cluster up, objects, controller, students, samples
"""
