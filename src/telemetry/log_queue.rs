//! The log lines on their way to stderr: a logging call queues its line and returns, a thread of
//! its own writes them, so a request never waits for the disk or the pipe behind stderr.
//!
//! The queue holds only what is waiting. (A bounded channel, as `tracing-appender` uses,
//! allocates and touches every slot up front: 4 MiB resident for 128 Ki lines, in an idle server
//! whose whole heap is a few MiB.) A logging call waits only while [`LOG_QUEUE_LINES`] lines are
//! queued behind the ones being written; no line is dropped.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::Duration;

/// Log lines that may wait for the writer thread before a logging call waits for it.
pub(super) const LOG_QUEUE_LINES: usize = 128 * 1024;

/// How long dropping the [`WriterGuard`] waits for the queued lines to be written.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Queue {
    state: Mutex<State>,
    /// A line was queued, or the queue closed (the writer thread waits for it).
    filled: Condvar,
    /// The writer took the queued lines, or the queue closed (full loggers wait for it).
    drained: Condvar,
}

#[derive(Default)]
struct State {
    lines: VecDeque<Vec<u8>>,
    closed: bool,
    /// Whether the writer thread waits on `filled` (so a logger wakes it only then).
    writer_waiting: bool,
    /// Loggers waiting on `drained`.
    loggers_waiting: usize,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The logging side: `tracing_subscriber`'s writer (one `write` per event).
#[derive(Clone)]
pub(super) struct LogWriter(Arc<Queue>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let queue = &self.0;
        let mut state = queue.lock();
        while state.lines.len() >= LOG_QUEUE_LINES && !state.closed {
            state.loggers_waiting += 1;
            state = queue
                .drained
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.loggers_waiting -= 1;
        }
        if state.closed {
            // After shutdown (the last lines of `main`): written here and now.
            drop(state);
            io::stderr().write_all(buf)?;
            return Ok(buf.len());
        }
        state.lines.push_back(buf.to_vec());
        let wake = std::mem::take(&mut state.writer_waiting);
        drop(state);
        if wake {
            queue.filled.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Keeps the writer thread; dropping it writes what is queued (waiting at most
/// [`SHUTDOWN_WAIT`]) and sends later lines straight to stderr.
pub(super) struct WriterGuard {
    queue: Arc<Queue>,
    finished: mpsc::Receiver<()>,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.filled.notify_all();
        self.queue.drained.notify_all();
        // Disconnected when the thread ends.
        let _ = self.finished.recv_timeout(SHUTDOWN_WAIT);
    }
}

/// Starts the thread that writes the queued lines to `out`.
pub(super) fn start(
    out: impl Write + Send + 'static,
    thread_name: &str,
) -> io::Result<(LogWriter, WriterGuard)> {
    let queue = Arc::new(Queue::default());
    let (finished_tx, finished) = mpsc::channel::<()>();
    let writer_queue = Arc::clone(&queue);
    std::thread::Builder::new()
        .name(thread_name.into())
        .spawn(move || {
            write_lines(&writer_queue, out);
            drop(finished_tx);
        })?;
    Ok((
        LogWriter(Arc::clone(&queue)),
        WriterGuard { queue, finished },
    ))
}

fn write_lines(queue: &Queue, mut out: impl Write) {
    loop {
        let (batch, wake_loggers) = {
            let mut state = queue.lock();
            while state.lines.is_empty() && !state.closed {
                state.writer_waiting = true;
                state = queue
                    .filled
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            state.writer_waiting = false;
            if state.lines.is_empty() {
                return; // closed, and everything written
            }
            // The whole queue, with its buffer: an empty one allocates nothing.
            (std::mem::take(&mut state.lines), state.loggers_waiting > 0)
        };
        if wake_loggers {
            queue.drained.notify_all();
        }
        for line in &batch {
            // Nowhere to report a failed write to stderr; the next line tries again.
            let _ = out.write_all(line);
        }
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` whose bytes the test can read, optionally held until `gate` opens.
    #[derive(Clone, Default)]
    struct Sink {
        bytes: Arc<Mutex<Vec<u8>>>,
        gate: Option<Arc<(Mutex<bool>, Condvar)>>,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if let Some(gate) = &self.gate {
                let (open, opened) = &**gate;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = opened.wait(open).unwrap();
                }
            }
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_in_order_and_all_of_them_by_the_time_the_guard_is_dropped() {
        let sink = Sink::default();
        let (writer, guard) = start(sink.clone(), "test-log").unwrap();
        let loggers: Vec<_> = (0..4)
            .map(|t| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        writer.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        loggers.into_iter().for_each(|l| l.join().unwrap());
        drop(guard);
        let text = String::from_utf8(sink.bytes.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 4000);
        for t in 0..4 {
            let mine: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("{t} ")))
                .map(|i| i.parse().unwrap())
                .collect();
            assert_eq!(
                mine,
                (0..1000).collect::<Vec<_>>(),
                "thread {t}'s lines in order"
            );
        }
    }

    #[test]
    fn a_logger_waits_when_the_queue_is_full_and_loses_nothing() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let sink = Sink {
            gate: Some(Arc::clone(&gate)),
            ..Sink::default()
        };
        let (writer, guard) = start(sink.clone(), "test-log").unwrap();
        let total = 2 * LOG_QUEUE_LINES + 10;
        let logger = {
            let mut writer = writer.clone();
            std::thread::spawn(move || {
                for _ in 0..total {
                    writer.write_all(b"x\n").unwrap();
                }
            })
        };
        // The writer holds its first batch at the gate; the logger fills the queue and waits.
        let queue = Arc::clone(&writer.0);
        while queue.lock().loggers_waiting == 0 {
            std::thread::yield_now();
        }
        assert_eq!(queue.lock().lines.len(), LOG_QUEUE_LINES);
        assert!(!logger.is_finished());
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        logger.join().unwrap();
        drop(guard);
        assert_eq!(sink.bytes.lock().unwrap().len(), 2 * total);
    }

    #[test]
    fn after_the_guard_is_dropped_a_line_goes_straight_out() {
        let sink = Sink::default();
        let (mut writer, guard) = start(sink.clone(), "test-log").unwrap();
        drop(guard);
        writer
            .write_all(b"late line (on the test's stderr)\n")
            .unwrap();
        assert!(writer.0.lock().lines.is_empty());
    }
}
