"""A tiny flow-matching policy written as a LeRobot policy plugin, with LeRobot's real-time-chunking hooks.

LeRobot's guided policies (Pi0, Pi0.5, SmolVLA) need multi-GB vision-language weights; this one has the
same shape of API (``init_rtc_processor``, ``predict_action_chunk(batch, inference_delay=,
prev_chunk_left_over=, execution_horizon=)``, LeRobot's own ``RTCProcessor`` doing the guidance) and a
closed-form denoiser, so the console's guided path can be tested offline. It is found by LeRobot's
plugin conventions: ``configuration_fakeflow.FakeFlowConfig`` -> ``modeling_fakeflow.FakeFlowPolicy``
and ``processor_fakeflow.make_fakeflow_pre_post_processors``.
"""
