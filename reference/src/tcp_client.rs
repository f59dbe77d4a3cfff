//! `tcp-client` (`client1.py`): sends each stdin line to the server and prints the
//! server's answer as `Output: <answer>`.
//!
//! Unlike the lecture's single `recv(1024)`, the client reads until the whole answer has
//! arrived: the answer is exactly as long as the request, however TCP fragments it.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};

use crate::{env, input, net};

/// Talks to `HOST:PORT` with stdin and stdout.
pub fn run() -> io::Result<()> {
    talk(env::address()?, io::stdin().lock(), io::stdout().lock())
}

/// Connects to `addr`, then for each line of `input` (see [`input::read_line`]) sends it,
/// reads the whole answer and prints `Output: <answer>` to `output`. At an empty line or
/// the end of input, closes the connection and returns `Ok`.
pub fn talk<A, R, W>(addr: A, mut input: R, mut output: W) -> io::Result<()>
where
    A: ToSocketAddrs,
    R: BufRead,
    W: Write,
{
    let mut stream = TcpStream::connect(addr)?;
    loop {
        input::prompt(&mut output)?;
        let Some(request) = input::read_line(&mut input)? else {
            return Ok(());
        };
        stream.write_all(&request)?;
        let mut answer = vec![0u8; request.len()];
        stream
            .read_exact(&mut answer)
            .map_err(|err| match err.kind() {
                ErrorKind::UnexpectedEof => {
                    net::with_context(err, "the server closed the connection before answering")
                }
                _ => err,
            })?;
        output.write_all(b"Output: ")?;
        output.write_all(&answer)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use super::*;
    use crate::upper;

    /// A server that answers each byte separately (the worst fragmentation), then records
    /// everything it received once the client closes.
    fn fragmenting_server() -> (std::net::SocketAddr, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_nodelay(true).unwrap();
            let mut received = Vec::new();
            let mut byte = [0u8; 1];
            while conn.read(&mut byte).unwrap() == 1 {
                received.push(byte[0]);
                conn.write_all(&upper::upper(&byte)).unwrap();
            }
            received
        });
        (addr, server)
    }

    #[test]
    fn prints_each_whole_answer_and_stops_at_an_empty_line() {
        let (addr, server) = fragmenting_server();
        let long = "x".repeat(5000);
        let input = format!("hello\n\tmixed Case 1\n{long}\n\nnever sent\n");
        let mut output = Vec::new();
        talk(addr, input.as_bytes(), &mut output).unwrap();

        let expected = format!(
            "Input: Output: HELLO\nInput: Output: \tMIXED CASE 1\nInput: Output: {}\nInput: ",
            long.to_uppercase()
        );
        assert_eq!(String::from_utf8(output).unwrap(), expected);
        // The server saw the end of the connection and only the lines before the empty one.
        let received = server.join().unwrap();
        assert_eq!(received, format!("hello\tmixed Case 1{long}").as_bytes());
    }

    #[test]
    fn end_of_input_closes_the_connection() {
        let (addr, server) = fragmenting_server();
        let mut output = Vec::new();
        talk(addr, &b"last line without newline"[..], &mut output).unwrap();
        assert!(String::from_utf8(output)
            .unwrap()
            .contains("Output: LAST LINE WITHOUT NEWLINE\n"));
        assert_eq!(server.join().unwrap(), b"last line without newline");
    }
}
