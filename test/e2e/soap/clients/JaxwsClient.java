// JAX-WS (Debian jaxws 2.3.0.2) client for wsdl/README.md, compiled against `wsimport -extension -p org.example.cimi`
// with the jaxws binding (enableWrapperStyle false) and the JAXB binding (System -> CimiSystem).
// Usage: java JaxwsClient WSDL_URL USER PASSWORD [list]; prints one JSON line for the suite.
// On each port: two lists, then (unless `list`) the flow (template, machine, GetJob until done, GetMachine) and a
// typed fault (GetMachine on an unknown id: GatewayFault with its FaultDetail).
// The on-demand import and java.lang.System below are the point: they compile only when no generated class is
// named System.
import org.example.cimi.*;

import java.net.URL;
import java.util.Map;
import javax.xml.ws.BindingProvider;

public class JaxwsClient {
  static String q(Object o) {
    return o == null ? "null" : "\"" + String.valueOf(o).replaceAll("[\"\\\\\\p{Cntrl}]", " ") + "\"";
  }

  static String call(CimiGatewayPortType port, String tag, String user, String pass, boolean flow) {
    Map<String, Object> ctx = ((BindingProvider) port).getRequestContext();
    ctx.put(BindingProvider.USERNAME_PROPERTY, user);
    ctx.put(BindingProvider.PASSWORD_PROPERTY, pass);
    StringBuilder out = new StringBuilder();
    try {
      // non-wrapper style: one request object in, one response object out
      ListMachineConfigurationsResponse r = port.listMachineConfigurations(new ListMachineConfigurations());
      ListSystemsResponse s = port.listSystems(new ListSystems());
      int systems = 0;
      for (CimiSystem x : s.getItem()) if (x.getId() != null) systems++;
      out.append("\"count\":").append(r.getCount()).append(",\"items\":").append(r.getItem().size()).append(",\"systems\":").append(systems);
      if (!flow) return "{\"ok\":true," + out + "}";

      MachineImage image = null;
      for (MachineImage i : port.listMachineImages(new ListMachineImages()).getItem()) if ("AVAILABLE".equals(i.getState())) image = i;
      CreateMachineTemplate t = new CreateMachineTemplate();
      t.setName("jaxws-" + tag);
      t.setMachineConfig(new MachineConfigurationSlot());
      t.getMachineConfig().setRef(r.getItem().get(0).getId());
      t.setMachineImage(new MachineImageSlot());
      t.getMachineImage().setRef(image.getId());
      CreateMachineTemplateResponse tpl = port.createMachineTemplate(t);
      CreateMachine m = new CreateMachine();
      m.setName("jaxws-vm-" + tag);
      m.setMachineTemplate(new MachineTemplateSlot());
      m.getMachineTemplate().setRef(tpl.getResource().getId());
      CreateMachineResponse created = port.createMachine(m);
      GetJob gj = new GetJob();
      gj.setId(created.getJob().getId());
      Job job = created.getJob();
      for (int i = 0; i < 500 && !(job.getState() == JobState.SUCCESS || job.getState() == JobState.FAILED || job.getState() == JobState.STOPPED); i++) {
        Thread.sleep(20);
        job = port.getJob(gj).getJob();
      }
      GetMachine gm = new GetMachine();
      gm.setId(created.getResource().getId());
      Machine got = port.getMachine(gm).getResource();
      out.append(",\"template\":").append(q(tpl.getJob().getState().value()))
          .append(",\"created\":").append(q(created.getResource().getState()))
          .append(",\"job\":").append(q(job.getState().value())).append(",\"progress\":").append(job.getProgress())
          .append(",\"machine\":").append(q(got.getState())).append(",\"name\":").append(q(got.getName()));

      gm.setId("00000000-0000-0000-0000-000000000000");
      try {
        port.getMachine(gm);
        out.append(",\"fault\":null");
      } catch (GatewayFault f) { // the wsdl:fault, typed: getFaultInfo() is the t:GatewayFault detail
        FaultDetail d = f.getFaultInfo();
        out.append(",\"fault\":{\"message\":").append(q(f.getMessage())).append(",\"kind\":").append(q(d.getKind().value()))
            .append(",\"code\":").append(q(d.getCode())).append(",\"resourceType\":").append(q(d.getResourceType()))
            .append(",\"resourceId\":").append(q(d.getResourceId())).append(",\"correlationId\":").append(q(d.getCorrelationId())).append("}");
      }
      return "{\"ok\":true," + out + "}";
    } catch (Exception e) {
      return "{\"ok\":false,\"error\":" + q(e) + (out.length() > 0 ? "," + out : "") + "}";
    }
  }

  public static void main(String[] args) throws Exception {
    boolean flow = !(args.length > 3 && args[3].equals("list"));
    CimiGatewayService svc = new CimiGatewayService(new URL(args[0]));
    String p11 = call(svc.getCimiGatewayPort(), "soap11", args[1], args[2], flow);
    String p12 = call(svc.getCimiGatewayPort12(), "soap12", args[1], args[2], flow);
    System.out.println("{\"CimiGatewayPort\":" + p11 + ",\"CimiGatewayPort12\":" + p12 + "}");
  }
}
