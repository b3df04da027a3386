//! The log's writer: a logging call copies its finished line into a buffer shared with a thread
//! of its own, which writes what gathered to the output in one `write` and rests a moment
//! before the next batch. A request therefore never waits for the disk or the pipe behind
//! stderr, and a line costs it one uncontended lock and a copy: no allocation, no channel, and
//! no memory handed to another thread to free (tracing-appender's queue did all three per line).
//! Formatting the line stays the larger part of its cost.
//!
//! No line is dropped: when the output stops taking lines and [`MAX_WAITING`] bytes wait,
//! logging calls wait for room. An idle process writes a line at once.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes of lines that may wait for the writer before a logging call waits for room.
pub const MAX_WAITING: usize = 1024 * 1024;
/// How long the writer thread rests after a batch, so that under load lines gather into one
/// write (and the thread takes the CPU from the requests once per this much time, not once
/// per line).
pub const LINGER: Duration = Duration::from_millis(5);
/// The capacity each buffer keeps between batches; a burst's larger buffer is given back.
const KEPT_CAPACITY: usize = 64 * 1024;

/// The logging side: hand it to `tracing_subscriber::fmt().with_writer(…)`.
#[derive(Clone)]
pub struct LogWriter {
    /// `None`: no writer thread; lines go straight to stderr.
    shared: Option<Arc<Shared>>,
}

impl LogWriter {
    /// Lines written straight to stderr by the logging call, for when the writer thread can't
    /// start.
    pub fn direct() -> Self {
        Self { shared: None }
    }
}

/// Stops the writer thread when dropped, after it wrote every line logged before.
#[must_use = "dropping the guard stops the log writer"]
pub struct WriterGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// The writer thread waits here while no line waits.
    lines_waiting: Condvar,
    /// Logging calls wait here while [`MAX_WAITING`] bytes wait.
    room: Condvar,
}

#[derive(Default)]
struct State {
    lines: Vec<u8>,
    writer_idle: bool,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is bytes and flags: still usable after a panic elsewhere.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts the writer thread (named `thread_name`) writing to `output`.
pub fn start<W: Write + Send + 'static>(
    output: W,
    thread_name: &str,
) -> std::io::Result<(LogWriter, WriterGuard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            lines: Vec::with_capacity(KEPT_CAPACITY),
            ..State::default()
        }),
        lines_waiting: Condvar::new(),
        room: Condvar::new(),
    });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || write_batches(&shared, output))?
    };
    let guard = WriterGuard {
        shared: shared.clone(),
        thread: Some(thread),
    };
    let shared = Some(shared);
    Ok((LogWriter { shared }, guard))
}

/// The writer thread: takes what gathered, writes it, rests; ends once closed and empty.
fn write_batches<W: Write>(shared: &Shared, mut output: W) {
    let mut batch = Vec::with_capacity(KEPT_CAPACITY);
    loop {
        {
            let mut state = shared.lock();
            while state.lines.is_empty() && !state.closed {
                state.writer_idle = true;
                state = shared
                    .lines_waiting
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
                state.writer_idle = false;
            }
            if state.lines.is_empty() {
                return;
            }
            std::mem::swap(&mut state.lines, &mut batch);
        }
        shared.room.notify_all();
        // Nowhere to report a failed write to: the log is the report.
        let _ = output.write_all(&batch).and_then(|()| output.flush());
        batch.clear();
        batch.shrink_to(KEPT_CAPACITY);
        std::thread::sleep(LINGER);
    }
}

impl Write for &LogWriter {
    /// Takes `line` whole (tracing's formatter hands over one finished line per call).
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let Some(shared) = &self.shared else {
            return std::io::stderr().write(line);
        };
        let mut state = shared.lock();
        while state.lines.len() >= MAX_WAITING && !state.closed {
            state = shared.room.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.lines.extend_from_slice(line);
        let wake = state.writer_idle;
        drop(state);
        if wake {
            shared.lines_waiting.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = &'a LogWriter;

    fn make_writer(&'a self) -> &'a LogWriter {
        self
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.lines_waiting.notify_one();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// An output the test reads back.
    #[derive(Clone, Default)]
    struct Output(Arc<Mutex<Vec<u8>>>);

    impl Write for Output {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Output {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_in_each_threads_order() {
        let output = Output::default();
        let (writer, guard) = start(output.clone(), "test-log").unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        (&writer)
                            .write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = output.text();
        let mut next = [0; 4];
        for line in text.lines() {
            let words: Vec<_> = line.split(' ').collect();
            let (t, i): (usize, usize) = (words[1].parse().unwrap(), words[3].parse().unwrap());
            assert_eq!(i, next[t], "{line}");
            next[t] += 1;
        }
        assert_eq!(
            next, [5000; 4],
            "every line is written once the guard is dropped"
        );
    }

    #[test]
    fn an_idle_writer_writes_a_line_at_once() {
        let output = Output::default();
        let (writer, _guard) = start(output.clone(), "test-log").unwrap();
        std::thread::sleep(LINGER * 4);
        (&writer).write_all(b"one line\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while output.text().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(output.text(), "one line\n");
    }

    /// An output that takes nothing until it is let go.
    struct Stuck(Arc<(Mutex<bool>, Condvar)>, Output);

    impl Write for Stuck {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let (free, turn) = &*self.0;
            let mut free = free.lock().unwrap();
            while !*free {
                free = turn.wait(free).unwrap();
            }
            self.1.write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_output_makes_logging_wait_and_loses_nothing() {
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let output = Output::default();
        let (writer, guard) = start(Stuck(release.clone(), output.clone()), "test-log").unwrap();
        let line = [b'x'; 1023]
            .iter()
            .chain(b"\n")
            .copied()
            .collect::<Vec<u8>>();
        // The stuck output holds one batch (at most the limit); the buffer fills to the limit
        // behind it, and the rest has to wait.
        let lines = 3 * MAX_WAITING / line.len();
        let logger = {
            let writer = writer.clone();
            let line = line.clone();
            std::thread::spawn(move || {
                for _ in 0..lines {
                    (&writer).write_all(&line).unwrap();
                }
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        assert!(!logger.is_finished(), "the logging thread waits for room");
        *release.0.lock().unwrap() = true;
        release.1.notify_all();
        logger.join().unwrap();
        drop(guard);
        assert_eq!(output.text().len(), lines * line.len());
    }
}
