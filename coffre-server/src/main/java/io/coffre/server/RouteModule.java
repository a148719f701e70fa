package io.coffre.server;

import io.javalin.config.RoutesConfig;

/**
 * One capability's HTTP surface. Handlers stay thin: parse, call the capability's service, render. Errors are
 * thrown as {@link io.coffre.arm.ArmException} and rendered by the server in one place.
 */
public interface RouteModule {
    void register(RoutesConfig routes);
}
