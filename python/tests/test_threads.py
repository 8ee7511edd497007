"""Sessions from Python threads: the GIL is released while the device runs, sessions of one model on
one runtime run side by side, and one session shared between threads takes their calls in turn;
every result equals the same run made alone."""
import sys
import threading
import time

import numpy as np

import vkvision


def run_in_threads(count, work):
    results, errors = [None] * count, []

    def body(index):
        try:
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - reported below, on the main thread
            errors.append(error)

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def inputs(session, count):
    rng = np.random.default_rng(7)
    shape = (session.batch, session.input_channels, session.input_size, session.input_size)
    return [rng.standard_normal(shape, dtype=np.float32) for _ in range(count)]


def test_a_session_per_thread(default_model, runtime):
    alone = vkvision.Session(default_model, device=runtime)
    batches = inputs(alone, 4)
    expected = [alone.run(x) for x in batches]

    def work(index):
        session = vkvision.Session(default_model, device=runtime)
        return [session.run(batches[index]) for _ in range(3)]

    for index, runs in enumerate(run_in_threads(4, work)):
        for logits in runs:
            np.testing.assert_array_equal(logits, expected[index])


def test_one_session_shared_by_threads(default_model, runtime):
    shared = vkvision.Session(default_model, device=runtime)
    batches = inputs(shared, 4)
    expected = [shared.run(x) for x in batches]
    results = run_in_threads(4, lambda index: [shared.run(batches[index]) for _ in range(5)])
    for index, runs in enumerate(results):
        for logits in runs:
            np.testing.assert_array_equal(logits, expected[index])


def test_the_gil_is_released_while_the_device_runs(default_model, runtime):
    """With a long switch interval the GIL changes hands only where it is released: a thread that
    counts (and yields in time.sleep) can count during Session.run only if run releases it."""
    session = vkvision.Session(default_model, batch=32, device=runtime)
    x = inputs(session, 1)[0]
    done = threading.Event()
    ticks = [0]

    def count():
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    counter = threading.Thread(target=count)
    counter.start()
    try:
        grew = 0
        for _ in range(3):
            before = ticks[0]
            session.run(x)
            grew += ticks[0] > before
    finally:
        done.set()
        counter.join()
        sys.setswitchinterval(interval)
    assert grew == 3
