package io.coffre.server;

import io.coffre.CoffreCore;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.catalog.SupportMatrix;
import io.coffre.json.Json;
import io.coffre.time.CoffreClock;
import io.coffre.time.ManualClock;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson;
import io.coffre.compute.nbd.NbdServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The HTTPS server: TLS, host classification, error rendering, and the capabilities' route modules. */
public final class CoffreServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CoffreServer.class);
    /** The most of an unread request body read and dropped to keep its connection open. */
    private static final int DRAINED_BODY_MAX_BYTES = 64 << 10;
    static final String HOST_ATTRIBUTE = "coffre.host";
    /** Set once a route has rendered its own ARM error, so the 404 fallback does not replace it. */
    private static final String ERROR_RENDERED = "coffre.error-rendered";

    private final ServerConfig config;
    private final CoffreCore core;
    private final Javalin app;
    private final TlsMaterial tls;

    private CoffreServer(ServerConfig config, CoffreCore core, Javalin app, TlsMaterial tls) {
        this.config = config;
        this.core = core;
        this.app = app;
        this.tls = tls;
    }

    /** Starts a server; with port 0 an ephemeral port is chosen (see {@link #port()}). */
    public static CoffreServer start(ServerConfig config) {
        return start(config, CoffreServer::modules);
    }

    /** The capabilities' HTTP surfaces, one line each. */
    private static List<RouteModule> modules(CoffreCore core) {
        return List.of(new HealthRoutes(core), new IdentityRoutes(core), new DirectoryRoutes(core),
                new AttestationRoutes(core), new ResourceManagerRoutes(core), new AuthorizationRoutes(core),
                new FeatureRoutes(core), new OperationRoutes(core), new AdminClockRoutes(core),
                new AdminAuditRoutes(core),
                new KeyVaultDataRoutes(core.keyService()),
                new ManagedHsmRbacRoutes(core.keyService()),
                new KeyVaultArmRoutes(core.keyService(), core.asyncOperations()),
                new DiskEncryptionSetRoutes(core.diskEncryptionSets(), core.asyncOperations()),
                new DiskRoutes(core.disks(), core.asyncOperations()), new DiskDataRoutes(core.disks()),
                new VirtualMachineRoutes(core.virtualMachines(), core.asyncOperations()),
                new VmSizeRoutes(core.vmSizes()),
                new RestorePointRoutes(core.restorePoints(), core.asyncOperations()));
    }

    /** With other route modules: lets route tests put a recording service behind the real HTTPS stack. */
    static CoffreServer start(ServerConfig config, Function<CoffreCore, List<RouteModule>> routeModules) {
        TlsMaterial tls = TlsMaterial.loadOrGenerate(config);
        CoffreClock clock = config.manualClock() ? new ManualClock() : CoffreClock.system();
        // The port is part of every key id and issuer, so it must be known before the core is built. A port the
        // system picks is bound here and handed to Jetty, so that no other socket can take it in between.
        ServerSocketChannel listening = config.port() == 0 ? bindAnyPort(config.bindHost()) : null;
        int port = listening == null ? config.port() : listening.socket().getLocalPort();
        ServerConfig effective = config.withPort(port);
        Endpoints endpoints = new Endpoints(config.dnsSuffix(), port);
        CoffreCore core;
        try {
            core = CoffreCore.open(config.dataDir(), config.masterKeyFile(), endpoints, clock,
                    SupportMatrix.load(config.matrix()), config.database(), config.blobs());
        } catch (RuntimeException e) {
            closeQuietly(listening);
            throw e;
        }
        try {
            List<RouteModule> modules = routeModules.apply(core);
            Javalin app = Javalin.create(cfg -> {
                cfg.jsonMapper(new JavalinJackson(Json.MAPPER, false));
                cfg.startup.showJavalinBanner = false;
                cfg.router.ignoreTrailingSlashes = true;
                cfg.router.treatMultipleSlashesAsSingleSlash = true;
                cfg.router.caseInsensitiveRoutes = true;
                cfg.jetty.addConnector((server, http) -> httpsConnector(server, http, tls, effective, listening));
                Authn authn = new Authn(core.identity(), endpoints);
                cfg.routes.before(ctx -> {
                    ctx.attribute(HOST_ATTRIBUTE, RequestHost.classify(ctx.header("Host"), config.dnsSuffix()));
                    ctx.attribute(Authn.AUTHN_ATTRIBUTE, authn);
                });
                cfg.routes.after(CoffreServer::drainUnreadBody);
                cfg.routes.exception(ArmException.class, (e, ctx) -> renderError(ctx, e));
                cfg.routes.exception(Exception.class, (e, ctx) -> {
                    LOG.error("internal error on {} {}", ctx.method(), ctx.path(), e);
                    renderError(ctx, new ArmException(500, "InternalError",
                            "Coffre hit an internal error; the server log has the details."));
                });
                cfg.routes.error(404, ctx -> {
                    if (ctx.attribute(ERROR_RENDERED) == null) {
                        renderError(ctx, ArmException.notFound("NotFound",
                                "No resource or operation at " + ctx.method() + " " + ctx.path() + "."));
                    }
                });
                cfg.routes.error(405, ctx -> renderError(ctx, new ArmException(405, "MethodNotAllowed",
                        ctx.method() + " is not supported on " + ctx.path() + ".")));
                modules.forEach(m -> m.register(cfg.routes));
            });
            // NBD has no authentication: loopback only, whatever the HTTPS bind address
            NbdServer nbd = core.virtualMachines().serveNbd(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    config.nbdPort()));
            app.start();
            try {
                ServerInfoFile.write(effective, core.identity(), nbd.port());
            } catch (RuntimeException e) {
                app.stop();
                throw e;
            }
            CoffreServer server = new CoffreServer(effective, core, app, tls);
            LOG.info("Coffre listening on https://{}:{} (data {})", config.bindHost(), port, config.dataDir());
            return server;
        } catch (RuntimeException e) {
            closeQuietly(listening);
            core.close();
            throw e;
        }
    }

    /**
     * Reads what is left of a small request body the handler did not need (a request refused before its body was
     * read, an operation that takes none) before the response goes out. Otherwise the server closes the connection
     * at once, and a client still sending the body gets a broken pipe, or a reset that can discard the answer it
     * has not read yet. A large remainder, or one the client waits on {@code 100-continue} to send, is left: then
     * the connection closes, and the response says so.
     */
    private static void drainUnreadBody(Context ctx) {
        long length = ctx.req().getContentLengthLong();
        if (length == 0 || length > DRAINED_BODY_MAX_BYTES || "100-continue".equalsIgnoreCase(ctx.header("Expect"))) {
            return;
        }
        try {
            InputStream in = ctx.req().getInputStream();
            byte[] sink = new byte[8192];
            for (long read = 0; read <= DRAINED_BODY_MAX_BYTES; ) {
                int n = in.read(sink);
                if (n < 0) {
                    return;
                }
                read += n;
            }
        } catch (IOException | IllegalStateException e) {
            // the client went away, or the handler read the body as text: nothing is left to keep the connection for
        }
    }

    private static ServerSocketChannel bindAnyPort(String host) {
        try {
            ServerSocketChannel channel = ServerSocketChannel.open();
            try {
                channel.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
                return channel;
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ": " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(ServerSocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the start failure is the one to report
            }
        }
    }

    public static RequestHost host(Context ctx) {
        return ctx.attribute(HOST_ATTRIBUTE);
    }

    static void renderError(Context ctx, ArmException e) {
        ctx.attribute(ERROR_RENDERED, Boolean.TRUE);
        Map<String, Object> error = new java.util.LinkedHashMap<>();
        error.put("code", e.code());
        error.put("message", e.getMessage());
        if (e.innerCode() != null) {
            error.put("innererror", Map.of("code", e.innerCode()));
        }
        ctx.status(e.status()).contentType("application/json; charset=utf-8")
                .result(Json.write(Map.of("error", error)));
    }

    /** {@code listening}: a channel already bound to the port, or {@code null} to bind the configured one. */
    private static ServerConnector httpsConnector(org.eclipse.jetty.server.Server server, HttpConfiguration http,
                                                  TlsMaterial tls, ServerConfig config,
                                                  ServerSocketChannel listening) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        char[] password = "coffre".toCharArray();
        ssl.setKeyStore(tls.keyStore(password));
        ssl.setKeyStorePassword("coffre");
        ssl.setSniRequired(false);
        HttpConfiguration https = new HttpConfiguration(http);
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        // Clients reach vaults through names the certificate covers only by wildcard, or through 127.0.0.1.
        secure.setSniHostCheck(false);
        https.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(https));
        connector.setHost(config.bindHost());
        connector.setPort(config.port());
        if (listening != null) {
            try {
                connector.open(listening);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return connector;
    }

    public ServerConfig config() {
        return config;
    }

    public int port() {
        return config.port();
    }

    public java.security.cert.X509Certificate tlsCertificate() {
        return tls.certificate();
    }

    public CoffreCore core() {
        return core;
    }

    @Override
    public void close() {
        app.stop();
        core.close();
    }
}
