<?php
// PHP ext/soap SoapClient (Debian php-soap, libxml2) in WSDL mode against /soap?wsdl: a representative set of
// operations on SOAP 1.1 and 1.2, and a typed fault. Usage: php php_client.php BASE_URL USER PASSWORD
// Prints one JSON line; the jest suite asserts on it.
[$_, $base, $user, $pass] = $argv;
$out = [];
foreach ([SOAP_1_1 => '1.1', SOAP_1_2 => '1.2'] as $ver => $label) {
    $r = ['calls' => []];
    try {
        // PHP takes the first port's address whatever soap_version says: the 1.2 endpoint is named explicitly
        $c = new SoapClient("$base/soap?wsdl", [
            'location' => $ver === SOAP_1_2 ? "$base/soap12" : "$base/soap",
            'soap_version' => $ver, 'login' => $user, 'password' => $pass, 'cache_wsdl' => WSDL_CACHE_NONE,
            'exceptions' => true, 'trace' => true, 'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
        ]);
        $configs = $c->ListMachineConfigurations(['first' => 1, 'last' => 10]);
        $r['calls']['ListMachineConfigurations'] = ['count' => $configs->count, 'first' => $configs->item[0]->name];
        $images = $c->ListMachineImages(['filter' => ['condition' => [['attribute' => 'state', 'operator' => 'eq', 'stringValue' => 'AVAILABLE']]]]);
        $tpl = $c->CreateMachineTemplate(['name' => "php-$label", 'machineConfig' => ['ref' => $configs->item[0]->id], 'machineImage' => ['ref' => $images->item[0]->id]]);
        $r['calls']['CreateMachineTemplate'] = ['job' => $tpl->job->state, 'config' => $tpl->resource->machineConfig->ref];
        $m = $c->CreateMachine(['name' => "php-vm-$label", 'machineTemplate' => ['ref' => $tpl->resource->id], 'idempotencyKey' => "php-$label"]);
        $r['calls']['CreateMachine'] = ['state' => $m->resource->state, 'job' => $m->job->state, 'action' => $m->job->action, 'target' => $m->job->targetResource->type];
        for ($i = 0; $i < 500; $i++) {
            $j = $c->GetJob(['id' => $m->job->id])->job;
            if (in_array($j->state, ['SUCCESS', 'FAILED', 'STOPPED'])) break;
            usleep(20000);
        }
        $r['calls']['GetJob'] = ['state' => $j->state, 'progress' => $j->progress];
        $got = $c->GetMachine(['id' => $m->resource->id])->resource;
        $r['calls']['GetMachine'] = ['state' => $got->state, 'cpu' => $got->cpu, 'cpuType' => gettype($got->cpu)];
        $upd = $c->UpdateMachine(['id' => $m->resource->id, 'description' => 'from php', 'properties' => ['property' => [['key' => 'lang', 'value' => 'php']]]]);
        $r['calls']['UpdateMachine'] = ['description' => $upd->resource->description, 'version' => $upd->resource->version];
        $start = $c->StartMachine(['id' => $m->resource->id]);
        $r['calls']['StartMachine'] = ['job' => $start->job->state, 'action' => $start->job->action];
        $list = $c->ListMachines(['filter' => ['condition' => [['attribute' => 'name', 'operator' => 'eq', 'stringValue' => "php-vm-$label"]]]]);
        $r['calls']['ListMachines'] = ['count' => $list->count];
        try {
            $c->GetMachine(['id' => '00000000-0000-0000-0000-000000000000']);
            $r['fault'] = null;
        } catch (SoapFault $f) {
            $r['fault'] = ['faultcode' => $f->faultcode, 'faultstring' => $f->faultstring, 'detail' => $f->detail->GatewayFault ?? null];
        }
        try {
            $c->ListMachines(['first' => 0]);
            $r['invalid'] = null;
        } catch (SoapFault $f) {
            $r['invalid'] = ['faultcode' => $f->faultcode, 'code' => $f->detail->GatewayFault->code ?? null, 'field' => $f->detail->GatewayFault->field ?? null];
        }
        $r['lastRequestHeaders'] = $c->__getLastRequestHeaders();
    } catch (Throwable $e) {
        $r['error'] = get_class($e) . ': ' . $e->getMessage();
    }
    $out[$label] = $r;
}
echo json_encode($out), "\n";
