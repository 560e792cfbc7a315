"""The course-surge benchmark and the demo (issue 6): shared harness code.

scenario   the numbers of the scenario (every one a flag), pure
analysis   waits, node-minutes and the lower bound from recorded samples, pure
cluster    the test cluster: objects, students, and the sampler (kubernetes client)
feed       the calendar (.ics over loopback HTTP), the controller's config and process
report     markdown table and PNG plot
"""
