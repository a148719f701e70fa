package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A keep-alive connection stays usable after a request whose body the server did not need (refused before reading
 * it, or an operation that takes none): a client that reuses it must not find it closed under its next request.
 */
class ConnectionReuseTest {
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    @Timeout(30)
    void aBodyArrivingAfterTheServerDecidedStillLeavesTheConnectionOpen() throws Exception {
        String body = "{\"probe\":1}";
        try (SSLSocket socket = (SSLSocket) server.sslContext().getSocketFactory()
                .createSocket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            // unauthenticated: refused with the challenge, which needs nothing of the body
            out.write(("PUT /subscriptions/s1/resourcegroups/rg1?api-version=2022-09-01 HTTP/1.1\r\n"
                    + "Host: management.coffre.localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300); // the body comes late, as it does when a client writes it apart from the headers
            out.write(body.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(readResponse(in)).startsWith("HTTP/1.1 401");

            out.write(("GET /subscriptions/s1/resourcegroups/rg1?api-version=2022-09-01 HTTP/1.1\r\n"
                    + "Host: management.coffre.localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(readResponse(in)).as("the second request on the same connection").startsWith("HTTP/1.1 401");
        }
    }

    /** One response: status line and headers, then a Content-Length body; fails if the connection closed first. */
    private static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the server closed the connection after " + head.size() + " bytes: " + head);
            }
            head.write(b);
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                in.readNBytes(Integer.parseInt(line.substring(line.indexOf(':') + 1).trim()));
            }
        }
        return headers;
    }
}
