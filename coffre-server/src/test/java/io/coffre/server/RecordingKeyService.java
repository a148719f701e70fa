package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A KeyService that answers every call with a description of the call itself ({@code {"op", <argument>...}}), so
 * route tests can check which operation a request reached and with which arguments, independently of the key
 * service's own behaviour. Getting a name that starts with {@code missing} is answered 404, as for an absent resource.
 * Pages have a next page until the skip token {@code page3}.
 */
final class RecordingKeyService {
    final List<ObjectNode> calls = new CopyOnWriteArrayList<>();
    final KeyService service = (KeyService) Proxy.newProxyInstance(KeyService.class.getClassLoader(),
            new Class<?>[] {KeyService.class}, (proxy, method, args) -> answer(method, args));

    ObjectNode last() {
        return calls.isEmpty() ? null : calls.get(calls.size() - 1);
    }

    private Object answer(Method method, Object[] args) {
        if (method.getDeclaringClass() == Object.class) {
            throw new UnsupportedOperationException(method.getName());
        }
        ObjectNode call = Json.object().put("op", method.getName());
        Parameter[] parameters = method.getParameters();
        String skipToken = null;
        for (int i = 0; i < parameters.length; i++) {
            String name = parameters[i].getName();
            Object arg = args[i];
            if (arg == null) {
                call.putNull(name);
            } else if (arg instanceof Principal p) {
                call.put(name, p.objectId());
            } else if (arg instanceof KeyService.Store s) {
                call.put(name, s.kind() + ":" + s.name());
            } else if (arg instanceof KeyService.Store.Kind k) {
                call.put(name, k.name());
            } else if (arg instanceof JsonNode json) {
                call.set(name, json);
            } else if (arg instanceof Integer n) {
                call.put(name, n);
            } else {
                call.put(name, arg.toString());
            }
            if (name.equals("skipToken")) {
                skipToken = (String) arg;
            }
            String named = arg instanceof KeyService.Store s ? s.name() : arg instanceof String text ? text : "";
            if (method.getName().startsWith("get") && named.startsWith("missing")) {
                calls.add(call);
                throw ArmException.notFound("NotFound", "'" + named + "' does not exist.");
            }
        }
        calls.add(call);
        if (call.has("resourceGroup") && call.has("store")) {
            // What an ARM resource carries and the async-operation answers need.
            String[] store = call.path("store").asText().split(":");
            call.put("id", "/subscriptions/" + call.path("subscriptionId").asText() + "/resourceGroups/"
                    + call.path("resourceGroup").asText() + "/providers/Microsoft.KeyVault/"
                    + (store[0].equals("VAULT") ? "vaults/" : "managedHSMs/") + store[1]);
            call.put("location", "uaenorth");
        }
        Class<?> type = method.getReturnType();
        if (type == ObjectNode.class) {
            return call;
        }
        if (type == KeyService.Page.class) {
            int page = skipToken == null ? 1 : Integer.parseInt(skipToken.substring("page".length()));
            return new KeyService.Page(List.of(call), page < 3 ? "page" + (page + 1) : null);
        }
        if (type == List.class) {
            return List.of(call);
        }
        return null;
    }
}
